#include "daemon/report/day.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>

#include "daemon/store/load_state_rows.hpp"  // parse_iso_utc
#include "daemon/site/loads.hpp"
#include "daemon/store/runtime_store.hpp"
#include "daemon/store/shadow_rows.hpp"

namespace shackd::report {

namespace {

// Runs `f` with TZ set to `timezone`, then puts TZ back: local time without a timezone library.
template <class F>
auto in_zone(const std::string& timezone, F f) {
  const char* old = std::getenv("TZ");
  const std::string saved = old ? old : "";
  setenv("TZ", timezone.c_str(), 1);
  tzset();
  auto out = f();
  if (old) setenv("TZ", saved.c_str(), 1);
  else unsetenv("TZ");
  tzset();
  return out;
}

std::int64_t local_midnight(int y, int m, int d) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  tm.tm_isdst = -1;  // let the zone say whether midnight is summer time
  return static_cast<std::int64_t>(std::mktime(&tm));
}


}  // namespace

std::optional<std::pair<std::int64_t, std::int64_t>> day_bounds(const std::string& date, const std::string& timezone,
                                                                 std::string& why) {
  int y = 0, m = 0, d = 0;
  char end = 0;
  if (date.size() != 10 || std::sscanf(date.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &end) != 3 || m < 1 || m > 12 ||
      d < 1 || d > 31 || y < 2000 || y > 2100) {
    why = fmt::format("--day '{}' is not a date like 2026-11-23", date.substr(0, 40));
    return std::nullopt;
  }
  return in_zone(timezone, [&]() -> std::optional<std::pair<std::int64_t, std::int64_t>> {
    const std::int64_t start = local_midnight(y, m, d);
    const std::int64_t next = local_midnight(y, m, d + 1);  // mktime normalises the 32nd
    std::tm check{};
    const std::time_t t = static_cast<std::time_t>(start);
    localtime_r(&t, &check);
    if (check.tm_mday != d) {
      why = fmt::format("--day '{}' is not a date in the calendar", date);
      return std::nullopt;
    }
    return std::pair(start, next);
  });
}

std::string local_date(std::int64_t unix_now, const std::string& timezone) {
  return in_zone(timezone, [&] {
    const std::time_t t = static_cast<std::time_t>(unix_now);
    std::tm tm{};
    localtime_r(&t, &tm);
    return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  });
}

std::optional<Day> read_day(db::Db& db, const StoredProfiles& profiles, const std::string& date, std::string& why) {
  const auto bounds = day_bounds(date, profiles.site.timezone, why);
  if (!bounds) return std::nullopt;
  Day day;
  day.date = date;
  day.timezone = profiles.site.timezone;
  day.start = bounds->first;
  day.end = bounds->second;
  const std::string from = iso_utc(day.start), to = iso_utc(day.end);

  auto t = db.prepare(
      "SELECT minute, battery_v_min, battery_v_avg, battery_v_max, pv_w_avg, load_w_avg FROM telemetry "
      "WHERE minute >= ?1 AND minute < ?2 ORDER BY minute");
  t.bind(1, from).bind(2, to);
  while (t.step()) {
    const auto at = parse_iso_utc(t.text(0));
    if (!at) continue;
    day.minutes.push_back({*at, t.opt_real(1), t.opt_real(2), t.opt_real(3), t.opt_real(4), t.opt_real(5)});
  }

  // Every load the profiles switch, in their order; the state each was left in before the day.
  std::map<std::string, std::size_t> by_id;
  for (const auto& l : load_refs(profiles)) {
    by_id[l.id] = day.loads.size();
    day.loads.push_back({l.id, l.name, false, {}, {}, {}, {}, {}});
  }
  auto before = db.prepare(
      "SELECT load_id, commanded_on FROM events WHERE kind = 'actuation' AND at < ?1 AND id IN "
      "(SELECT max(id) FROM events WHERE kind = 'actuation' AND commanded_on IS NOT NULL AND at < ?1 "
      "GROUP BY load_id)");
  before.bind(1, from);
  while (before.step()) {
    const auto it = by_id.find(before.text(0));
    if (it != by_id.end()) day.loads[it->second].on_at_start = before.integer(1) != 0;
  }
  // The target in force at midnight, for a miner that ran into the day on one.
  auto target_before = db.prepare(
      "SELECT load_id, target_w FROM events WHERE id IN (SELECT max(id) FROM events WHERE kind = 'actuation' "
      "AND target_w IS NOT NULL AND at < ?1 GROUP BY load_id)");
  target_before.bind(1, from);
  while (target_before.step()) {
    const auto it = by_id.find(target_before.text(0));
    if (it != by_id.end() && day.loads[it->second].on_at_start) day.loads[it->second].targets.push_back({day.start, target_before.real(1)});
  }
  auto ev = db.prepare(
      "SELECT at, kind, load_id, commanded_on, reason, detail, target_w FROM events WHERE at >= ?1 AND at < ?2 "
      "ORDER BY id");
  ev.bind(1, from).bind(2, to);
  while (ev.step()) {
    const auto at = parse_iso_utc(ev.text(0));
    if (!at) continue;
    const std::string kind = ev.text(1);
    const std::string load = ev.opt_text(2).value_or("");
    const auto it = by_id.find(load);
    LoadLine* line = it == by_id.end() ? nullptr : &day.loads[it->second];
    // A relay that did not report what it was told: from that command (the last switch, or the
    // day's start) until it did, or until the next command. Detail is "<code>: <words>".
    const auto close_unconfirmed = [&](std::int64_t until) {
      if (line && !line->unconfirmed.empty() && line->unconfirmed.back().second == 0) line->unconfirmed.back().second = until;
    };
    if (line && ev.text(5).starts_with("relay_unconfirmed:")) {
      close_unconfirmed(*at);
      line->unconfirmed.push_back({line->switches.empty() ? day.start : line->switches.back().t, 0});
    } else if (line && ev.text(5).starts_with("relay_confirmed:")) {
      close_unconfirmed(*at);
    }
    if (kind == "actuation") {
      if (!line) continue;
      // No relay state: a command through a miner's API; a power target it took is drawn.
      if (!ev.is_null(3)) {
        close_unconfirmed(*at);
        line->switches.push_back({*at, ev.integer(3) != 0, ev.text(4), ev.text(5)});
      } else if (!ev.is_null(6)) {
        line->targets.push_back({*at, ev.real(6)});
      }
    } else if (kind == "alarm" || kind == "alarm_end" || kind == "override" || kind == "config") {
      day.marks.push_back({*at, kind, (load.empty() ? "" : load + ": ") + ev.text(5)});
    }
  }

  // Shadow mode's spells and a candidate's that overlap the day (a database before schema 0016 or
  // 0017 has none).
  for (const bool candidate : {false, true}) {
    if (!db.table_exists(candidate ? "candidate_differences" : "shadow_disagreements")) continue;
    for (const auto& r : load_shadow_rows(db, day.start * 1000, 100000, candidate)) {
      if (r.start_ms >= day.end * 1000) continue;
      const auto it = by_id.find(r.load_id);
      if (it == by_id.end()) continue;
      auto& line = day.loads[it->second];
      (candidate ? line.candidate : line.shadow)
          .push_back({r.start_ms / 1000, r.end_ms ? (*r.end_ms + 999) / 1000 : 0, r.would_on, r.actual_on, r.reason});
    }
  }

  const auto& s = profiles.rules.site.thresholds;
  day.thresholds = {{"shutdown", s.shutdown_v}, {"critical low", s.critical_low_v}, {"float", s.float_v}};
  for (const auto& m : profiles.rules.miners) {
    if (!m.enabled) continue;
    const auto e = rules::effective_thresholds(m, profiles.rules.site);
    day.thresholds.push_back({m.name + " start", e.start_v});
    day.thresholds.push_back({m.name + " stop", e.stop_v});
  }
  return day;
}

}  // namespace shackd::report
