#include "daemon/store/load_state_rows.hpp"

#include "daemon/system/log.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>

namespace shackd {

std::optional<std::int64_t> parse_iso_utc(const std::string& s) {
  std::tm tm{};
  int y, mo, d, h, mi, sec;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6) return std::nullopt;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return static_cast<std::int64_t>(timegm(&tm));
}

rules::SteadyTime to_steady(std::int64_t wall_s, rules::SteadyTime steady_now, std::int64_t wall_now_s) {
  const std::int64_t age = std::max<std::int64_t>(0, wall_now_s - wall_s);
  return steady_now - std::chrono::seconds(age);
}

std::int64_t to_wall(rules::SteadyTime t, rules::SteadyTime steady_now, std::int64_t wall_now_s) {
  return wall_now_s - std::chrono::duration_cast<std::chrono::seconds>(steady_now - t).count();
}

rules::LoadState restore_load(const LoadStateRow& row, rules::SteadyTime steady_now, std::int64_t wall_now_s) {
  rules::LoadState st;
  st.on = row.commanded_on;
  const auto at = [&](const std::optional<std::string>& s) -> std::optional<rules::SteadyTime> {
    if (!s) return std::nullopt;
    const auto w = parse_iso_utc(*s);
    if (!w) return std::nullopt;
    return to_steady(*w, steady_now, wall_now_s);
  };
  st.last_change = at(row.since);
  // The starts of the last hour are not stored one by one: count them at the last start, which
  // keeps them in the window at least as long as they really are.
  if (const auto last = at(row.last_start); last && steady_now - *last < std::chrono::hours(1)) {
    for (int i = 0; i < std::min(row.starts_this_hour, rules::kMaxStartsPerHour); ++i) st.starts.record(*last);
  }
  if (row.override_mode == "on" || row.override_mode == "off") {
    // The expiry is in the future, so it is converted directly, not as a past instant (which
    // to_steady() clamps to now). One that ran out while shackd was away is dropped.
    const auto until = row.override_until ? parse_iso_utc(*row.override_until) : std::nullopt;
    if (!row.override_until || (until && *until > wall_now_s)) {
      st.override_.mode = row.override_mode == "on" ? rules::OverrideMode::on : rules::OverrideMode::off;
      if (until) st.override_.until = steady_now + std::chrono::seconds(*until - wall_now_s);
    }
  }
  return st;
}

rules::State restored_state(const rules::Profiles& profiles, const std::vector<LoadRef>& loads,
                            const std::map<std::string, LoadStateRow>& rows, rules::SteadyTime steady_now,
                            std::int64_t wall_now_s) {
  rules::State s;
  s.miners.resize(profiles.miners.size());
  s.zones.resize(profiles.zones.size());
  for (const auto& l : loads) {
    const auto it = rows.find(l.state_key);
    if (it == rows.end()) continue;
    const rules::LoadState st = restore_load(it->second, steady_now, wall_now_s);
    if (st.starts.count > 0 && (!s.site.last_start || st.starts.at[st.starts.count - 1] > *s.site.last_start)) {
      s.site.last_start = st.starts.at[st.starts.count - 1];
    }
    state_of(s, l) = st;
  }
  return s;
}

rules::State restored_at_start(const rules::Profiles& profiles, const std::vector<LoadRef>& loads,
                               const std::map<std::string, LoadStateRow>& rows,
                               std::optional<rules::SteadyTime> held_off_since, rules::SteadyTime steady_now,
                               std::int64_t wall_now_s) {
  rules::State state = restored_state(profiles, loads, rows, steady_now, wall_now_s);
  for (const auto& l : loads) {
    const auto it = rows.find(l.state_key);
    if (it == rows.end()) continue;
    rules::LoadState& st = state_of(state, l);
    const std::string since = it->second.since.value_or("(never switched)");
    if (held_off_since && st.on) {
      st.on = false;
      st.last_change = *held_off_since;
      log::info("{}: stored ON since {}; OFF since the safe state switched it off", l.name, since);
    }
    log::info("{}: restored {} since {}{}", l.name, st.on ? "ON" : "OFF", since,
              st.override_.mode != rules::OverrideMode::automatic ? ", override " + it->second.override_mode : "");
  }
  return state;
}

LoadStateRow persist_load(const std::string& key, const rules::LoadState& st, const LoadStateRow* previous,
                          rules::SteadyTime steady_now, std::int64_t wall_now_s, bool override_changed) {
  LoadStateRow r = previous ? *previous : LoadStateRow{};
  r.load_id = key;
  const auto iso = [&](rules::SteadyTime t) { return iso_utc(to_wall(t, steady_now, wall_now_s)); };
  const bool transition = !previous || previous->commanded_on != st.on;
  if (transition) {
    if (!previous && st.on && st.last_change) r.last_start = iso(*st.last_change);  // the first row
    if (previous && st.last_change) {
      if (st.on) {
        ++r.relay_cycles;
        r.last_start = iso(*st.last_change);
      } else {
        r.last_stop = iso(*st.last_change);
        if (const auto since = previous->since ? parse_iso_utc(*previous->since) : std::nullopt) {
          r.on_seconds += std::max<std::int64_t>(0, to_wall(*st.last_change, steady_now, wall_now_s) - *since);
        }
      }
    }
    r.commanded_on = st.on;
    if (st.last_change) r.since = iso(*st.last_change);
    r.starts_this_hour = st.starts.in_last_hour(steady_now);
  }
  const char* mode = mode_name(st.override_.mode);
  if (override_changed || !previous || r.override_mode != mode) {
    r.override_mode = mode;
    r.override_until.reset();
    if (st.override_.mode != rules::OverrideMode::automatic && st.override_.until) r.override_until = iso(*st.override_.until);
  }
  return r;
}

}  // namespace shackd
