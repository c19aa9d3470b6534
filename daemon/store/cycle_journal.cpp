#include "daemon/store/cycle_journal.hpp"

#include <fmt/format.h>

#include <charconv>
#include <stdexcept>

#include "daemon/site/loads.hpp"
#include "daemon/store/runtime_store.hpp"

namespace shackd {

namespace {

std::int64_t ms_between(rules::SteadyTime from, rules::SteadyTime to) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

void put(std::string& line, const std::optional<rules::Reading>& r, rules::SteadyTime now, bool at_least = false) {
  line += '\t';
  if (!r) {
    line += '-';
    return;
  }
  if (at_least) line += '>';  // a partial sum: a lower bound
  // fmt's "{}" is the shortest text that reads back to the same double.
  line += fmt::format("{}@{}", r->value, ms_between(r->as_of, now));
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> f;
  std::size_t from = 0;
  for (;;) {
    const auto tab = line.find('\t', from);
    f.push_back(line.substr(from, tab == std::string::npos ? std::string::npos : tab - from));
    if (tab == std::string::npos) return f;
    from = tab + 1;
  }
}

std::int64_t to_int(const std::string& s, const char* what) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) throw std::runtime_error(fmt::format("{} '{}' is not an integer", what, s));
  return v;
}

std::optional<JournalCycle::Value> to_value(const std::string& text) {
  if (text == "-") return std::nullopt;
  const bool at_least = text.starts_with('>');
  const std::string s = at_least ? text.substr(1) : text;
  const auto at = s.find('@');
  if (at == std::string::npos) throw std::runtime_error(fmt::format("reading '{}' is not <value>@<age_ms>", s));
  const auto value = parse_number(s.substr(0, at));
  if (!value) throw std::runtime_error(fmt::format("reading '{}' is not a number", s));
  return JournalCycle::Value{*value, to_int(s.substr(at + 1), "age"), at_least};
}

}  // namespace

std::optional<double> parse_number(const std::string& s) {
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string journal_cycle_line(const rules::Snapshot& snap, std::int64_t wall_ms,
                               const std::vector<JournalOverride>& overrides, const std::vector<std::size_t>& miners,
                               const std::vector<JournalAc>& ac) {
  const std::int64_t steady_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(snap.now.time_since_epoch()).count();
  std::string line = fmt::format("C\t{}\t{}\t", (wall_ms % 60000 + 60000) % 60000, steady_ms);
  line += snap.local_minute_of_day ? std::to_string(*snap.local_minute_of_day) : std::string("-");
  for (const auto& v : snap.battery_v) put(line, v.reading, snap.now);
  put(line, snap.battery_a, snap.now);
  for (const auto& t : snap.battery_temp_c) put(line, t.reading, snap.now);
  put(line, snap.pv_w, snap.now, snap.pv_w_partial);
  put(line, snap.load_w, snap.now, snap.load_w_partial);
  for (const auto& z : snap.zone_temp_c) put(line, z, snap.now);
  put(line, snap.chargers_limiting, snap.now);  // the X line's inputs, in its order
  for (const std::size_t i : miners) {
    put(line, i < snap.miner_w.size() ? snap.miner_w[i] : std::nullopt, snap.now);
    put(line, i < snap.miner_temp_c.size() ? snap.miner_temp_c[i] : std::nullopt, snap.now);
    const auto limit = i < snap.miner_temp_limit_c.size() ? snap.miner_temp_limit_c[i] : std::nullopt;
    put(line, limit ? std::optional<rules::Reading>(rules::Reading{*limit, snap.now}) : std::nullopt, snap.now);
    for (const auto* flags : {&snap.miner_powered, &snap.miner_target_ignored}) {
      put(line, rules::Reading{i < flags->size() && (*flags)[i] ? 1.0 : 0.0, snap.now}, snap.now);
    }
  }
  put(line, snap.generator_running, snap.now);
  // Each AC source's own words (issue 59), those the header names, in its order.
  for (std::size_t i = 0; i < ac.size(); ++i) {
    const rules::AcSourceReadings none;
    const auto& a = i < snap.ac.size() ? snap.ac[i] : none;
    if (ac[i].overload) put(line, a.overload, snap.now);
    for (std::size_t k = 0; k < a.phase.size(); ++k) {
      if (ac[i].load_w[k]) put(line, a.phase[k].load_w, snap.now);
      if (ac[i].phase_overload[k]) put(line, a.phase[k].overload, snap.now);
    }
  }
  for (const auto& o : overrides) {
    line += fmt::format("\t{}={}:{}", o.state_key, mode_name(o.mode),
                        o.remaining_ms ? std::to_string(*o.remaining_ms) : std::string("-"));
  }
  return line;
}

std::string journal_header(const std::vector<std::string>& zone_names, const std::vector<std::string>& voltage_sources,
                           const std::vector<std::string>& temperature_sources,
                           const std::vector<std::string>& miner_names, const std::vector<JournalAc>& ac) {
  std::string text = "Z";
  for (const auto& z : zone_names) text += '\t' + z;
  text += "\nV";
  for (const auto& v : voltage_sources) text += '\t' + v;
  text += "\nT";
  for (const auto& t : temperature_sources) text += '\t' + t;
  text += "\nX\tchargers_limiting";
  for (const auto& m : miner_names) {
    text += "\tminer_w:" + m + "\tminer_temp_c:" + m + "\tminer_temp_limit_c:" + m + "\tminer_powered:" + m +
            "\tminer_target_ignored:" + m;
  }
  text += "\tgenerator_running";
  for (const auto& a : ac) {
    if (a.overload) text += "\tac_overload:" + a.name;
    for (std::size_t k = 0; k < a.load_w.size(); ++k) {
      if (a.load_w[k]) text += fmt::format("\tac_load_w:L{}:{}", k + 1, a.name);
      if (a.phase_overload[k]) text += fmt::format("\tac_phase_overload:L{}:{}", k + 1, a.name);
    }
  }
  return text;
}

rules::Snapshot JournalCycle::snapshot(rules::SteadyTime now, const std::vector<std::string>& profile_zones,
                                       const std::vector<std::string>& profile_miners,
                                       const std::vector<std::string>& profile_ac) const {
  rules::Snapshot s;
  s.now = now;
  s.local_minute_of_day = local_minute_of_day;
  const auto reading = [&](const std::optional<Value>& v) -> std::optional<rules::Reading> {
    if (!v) return std::nullopt;
    return rules::Reading{v->value, now - std::chrono::milliseconds(v->age_ms)};
  };
  // The replay names a source by its journal name: the label is for people, not for the rules.
  for (std::size_t i = 0; i < battery_v.size(); ++i) {
    const std::string& n = i < voltage_sources.size() ? voltage_sources[i] : std::string("?");
    s.battery_v.push_back({n, n, reading(battery_v[i])});
  }
  s.battery_a = reading(battery_a);
  for (std::size_t i = 0; i < battery_temp_c.size(); ++i) {
    const std::string& n = i < temperature_sources.size() ? temperature_sources[i] : std::string("?");
    s.battery_temp_c.push_back({n, n, reading(battery_temp_c[i])});
  }
  s.pv_w = reading(pv_w);
  s.pv_w_partial = pv_w && pv_w->at_least;
  s.load_w = reading(load_w);
  s.load_w_partial = load_w && load_w->at_least;
  s.chargers_limiting = reading(chargers_limiting);
  s.generator_running = reading(generator_running);
  for (const auto& name : profile_zones) {
    std::optional<rules::Reading> r;
    for (std::size_t i = 0; i < zones.size() && i < zone_temp_c.size(); ++i) {
      if (zones[i] == name) r = reading(zone_temp_c[i]);
    }
    s.zone_temp_c.push_back(r);
  }
  const auto by_name = [&](const auto& named, const std::string& name) {
    std::optional<rules::Reading> r;
    for (const auto& [n, v] : named) {
      if (n == name) r = reading(v);
    }
    return r;
  };
  for (const auto& name : profile_miners) {
    s.miner_w.push_back(by_name(miner_w, name));
    s.miner_temp_c.push_back(by_name(miner_temp_c, name));
    const auto limit = by_name(miner_temp_limit_c, name);
    s.miner_temp_limit_c.push_back(limit ? std::optional<double>(limit->value) : std::nullopt);
    const auto powered = by_name(miner_powered, name), ignored = by_name(miner_target_ignored, name);
    s.miner_powered.push_back(powered && powered->value > 0.5);
    s.miner_target_ignored.push_back(ignored && ignored->value > 0.5);
  }
  // The AC sources by name, in the profiles' order; one the journal does not name is not known.
  for (const auto& name : profile_ac) {
    rules::AcSourceReadings a;
    a.overload = by_name(ac, "ac_overload:" + name);
    for (std::size_t k = 0; k < a.phase.size(); ++k) {
      a.phase[k].load_w = by_name(ac, fmt::format("ac_load_w:L{}:{}", k + 1, name));
      a.phase[k].overload = by_name(ac, fmt::format("ac_phase_overload:L{}:{}", k + 1, name));
    }
    s.ac.push_back(a);
  }
  return s;
}

void read_journal_minute(std::int64_t minute_unix_s, const std::string& text, std::vector<JournalCycle>& out) {
  std::vector<std::string> zones, extras;
  // Until a V and a T line say otherwise: the layout written before sources were ranked.
  std::vector<std::string> voltages = {"battery_monitor", "gx_system", "solark"}, temperatures = {"battery_temp"};
  bool started = false;
  std::size_t from = 0;
  for (int n = 1; from < text.size(); ++n) {
    const auto nl = text.find('\n', from);
    const std::string line = text.substr(from, nl == std::string::npos ? std::string::npos : nl - from);
    from = nl == std::string::npos ? text.size() : nl + 1;
    if (line.empty()) continue;
    try {
      const auto f = split_tabs(line);
      if (f[0] == "Z") {
        zones.assign(f.begin() + 1, f.end());
      } else if (f[0] == "V") {
        voltages.assign(f.begin() + 1, f.end());
      } else if (f[0] == "T") {
        temperatures.assign(f.begin() + 1, f.end());
      } else if (f[0] == "X") {
        extras.assign(f.begin() + 1, f.end());
      } else if (f[0] == "S") {
        started = true;
      } else if (f[0] == "C") {
        // C, ms, steady, local minute, the sources, battery_a, pv_w, load_w
        const std::size_t kFixed = 4 + voltages.size() + 1 + temperatures.size() + 2;
        const std::size_t kInputs = kFixed + zones.size() + extras.size();
        if (f.size() < kInputs) throw std::runtime_error(fmt::format("{} fields, expected at least {}", f.size(), kInputs));
        JournalCycle c;
        c.wall_ms = minute_unix_s * 1000 + to_int(f[1], "ms");
        c.steady_ms = to_int(f[2], "steady_ms");
        c.started = std::exchange(started, false);
        c.zones = zones;
        c.voltage_sources = voltages;
        c.temperature_sources = temperatures;
        if (f[3] != "-") c.local_minute_of_day = static_cast<int>(to_int(f[3], "local minute"));
        std::size_t at = 4;
        for (std::size_t i = 0; i < voltages.size(); ++i) c.battery_v.push_back(to_value(f[at++]));
        c.battery_a = to_value(f[at++]);
        for (std::size_t i = 0; i < temperatures.size(); ++i) c.battery_temp_c.push_back(to_value(f[at++]));
        c.pv_w = to_value(f[at++]);
        c.load_w = to_value(f[at++]);
        for (std::size_t i = 0; i < zones.size(); ++i) c.zone_temp_c.push_back(to_value(f[kFixed + i]));
        for (std::size_t i = 0; i < extras.size(); ++i) {
          // An input this build does not know is skipped: a newer journal still replays.
          if (extras[i] == "chargers_limiting") c.chargers_limiting = to_value(f[kFixed + zones.size() + i]);
          if (extras[i] == "generator_running") c.generator_running = to_value(f[kFixed + zones.size() + i]);
          const auto& f_at = f[kFixed + zones.size() + i];
          for (auto [prefix, into] : {std::pair{std::string_view("miner_w:"), &c.miner_w},
                                      std::pair{std::string_view("miner_temp_c:"), &c.miner_temp_c},
                                      std::pair{std::string_view("miner_temp_limit_c:"), &c.miner_temp_limit_c},
                                      std::pair{std::string_view("miner_powered:"), &c.miner_powered},
                                      std::pair{std::string_view("miner_target_ignored:"), &c.miner_target_ignored}}) {
            if (extras[i].starts_with(prefix)) into->emplace_back(extras[i].substr(prefix.size()), to_value(f_at));
          }
          if (extras[i].starts_with("ac_")) c.ac.emplace_back(extras[i], to_value(f_at));
        }
        for (std::size_t i = kInputs; i < f.size(); ++i) {
          const auto eq = f[i].rfind('='), colon = f[i].rfind(':');
          if (eq == std::string::npos || colon == std::string::npos || colon < eq) {
            throw std::runtime_error(fmt::format("override '{}' is not <load>=<mode>:<remaining_ms>", f[i]));
          }
          JournalOverride o;
          o.state_key = f[i].substr(0, eq);
          const std::string mode = f[i].substr(eq + 1, colon - eq - 1), left = f[i].substr(colon + 1);
          o.mode = mode == "on" ? rules::OverrideMode::on : mode == "off" ? rules::OverrideMode::off : rules::OverrideMode::automatic;
          if (left != "-") o.remaining_ms = to_int(left, "remaining_ms");
          c.overrides.push_back(o);
        }
        out.push_back(std::move(c));
      } else {
        throw std::runtime_error("unknown entry '" + f[0] + "'");
      }
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(fmt::format("cycle journal of {}, line {}: {}", iso_utc(minute_unix_s), n, e.what()));
    }
  }
}

}  // namespace shackd
