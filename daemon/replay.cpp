#include "daemon/replay.hpp"

#include <fmt/format.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "daemon/cli_args.hpp"
#include "daemon/config.hpp"
#include "daemon/migrate.hpp"
#include "daemon/profile_store.hpp"
#include "daemon/profiles_yaml.hpp"
#include "daemon/runtime_store.hpp"
#include "daemon/sqlite.hpp"
#include "daemon/state_restore.hpp"
#include "rules/decide.hpp"
#include "rules/validate.hpp"

namespace shackd {

namespace {

struct Row {
  std::int64_t unix_s = 0;
  std::optional<double> battery_v, pv_w, load_w, battery_temp_c;
  std::map<std::string, double> zones;
};

std::optional<double> cell(const std::string& s) {
  if (s.empty()) return std::nullopt;
  std::size_t used = 0;
  const double v = std::stod(s, &used);
  if (used != s.size()) throw std::runtime_error("'" + s + "' is not a number");
  return v;
}

// CSV: time (ISO UTC) then any of battery_v, pv_w, load_w, battery_temp_c, zone.<name>.
std::vector<Row> read_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read it");
  std::vector<Row> rows;
  std::vector<std::string> header;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
    if (header.empty()) {
      header = cells;
      if (header.empty() || (header[0] != "time" && header[0] != "minute")) {
        throw std::runtime_error(path + ":1: the first column must be time (ISO UTC, as in the telemetry table)");
      }
      continue;
    }
    Row r;
    try {
      const auto t = parse_iso_utc(cells.at(0));
      if (!t) throw std::runtime_error("'" + cells[0] + "' is not a time like 2026-06-21T12:00:00Z");
      r.unix_s = *t;
      for (std::size_t i = 1; i < cells.size() && i < header.size(); ++i) {
        const auto v = cell(cells[i]);
        if (!v) continue;
        const auto& h = header[i];
        if (h == "battery_v" || h == "battery_v_avg") r.battery_v = v;
        else if (h == "pv_w" || h == "pv_w_avg") r.pv_w = v;
        else if (h == "load_w" || h == "load_w_avg") r.load_w = v;
        else if (h == "battery_temp_c" || h == "battery_temp_c_avg") r.battery_temp_c = v;
        else if (h.rfind("zone.", 0) == 0) r.zones[h.substr(5)] = *v;
      }
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("{}:{}: {}", path, n, e.what()));
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<Row> read_db(db::Db& db, const std::string& since, const std::string& until) {
  std::vector<Row> rows;
  auto s = db.prepare(
      "SELECT minute, battery_v_avg, pv_w_avg, load_w_avg, battery_temp_c_avg FROM telemetry "
      "WHERE minute >= ? AND minute < ? ORDER BY minute");
  s.bind(1, since).bind(2, until);
  while (s.step()) {
    Row r;
    r.unix_s = parse_iso_utc(s.text(0)).value_or(0);
    r.battery_v = s.opt_real(1);
    r.pv_w = s.opt_real(2);
    r.load_w = s.opt_real(3);
    r.battery_temp_c = s.opt_real(4);
    rows.push_back(r);
  }
  auto z = db.prepare("SELECT minute, zone, temp_c_avg FROM telemetry_zone WHERE minute >= ? AND minute < ?");
  z.bind(1, since).bind(2, until);
  std::map<std::int64_t, Row*> by_time;
  for (auto& r : rows) by_time[r.unix_s] = &r;
  while (z.step()) {
    const auto t = parse_iso_utc(z.text(0)).value_or(0);
    if (by_time.count(t) && !z.is_null(2)) by_time[t]->zones[z.text(1)] = z.real(2);
  }
  return rows;
}

// --set miners.<name>.<field>=v | zones.<name>.<field>=v | site.<field>=v, as a profiles: overlay.
std::string overlay_yaml(const std::vector<std::string>& sets) {
  std::map<std::string, std::map<std::string, std::vector<std::string>>> lists;  // kind -> name -> lines
  std::vector<std::string> site;
  for (const auto& s : sets) {
    const auto eq = s.find('=');
    if (eq == std::string::npos) throw UsageError("--set '" + s + "': expected key=value");
    const std::string key = s.substr(0, eq), value = s.substr(eq + 1);
    if (key.rfind("site.", 0) == 0) {
      site.push_back(fmt::format("    {}: {}", key.substr(5), value));
      continue;
    }
    const auto dot1 = key.find('.'), dot2 = key.rfind('.');
    const std::string kind = key.substr(0, dot1);
    if ((kind != "miners" && kind != "zones") || dot1 == dot2) {
      throw UsageError("--set '" + s + "': keys are site.<field>, miners.<name>.<field> or zones.<name>.<field>");
    }
    lists[kind][key.substr(dot1 + 1, dot2 - dot1 - 1)].push_back(fmt::format("      {}: {}", key.substr(dot2 + 1), value));
  }
  std::string y = "profiles:\n";
  if (!site.empty()) y += "  site:\n" + fmt::format("{}\n", fmt::join(site, "\n"));
  for (const auto& [kind, names] : lists) {
    y += "  " + kind + ":\n";
    for (const auto& [name, lines] : names) {
      y += fmt::format("    - name: \"{}\"\n{}\n", name, fmt::join(lines, "\n"));
    }
  }
  return y;
}

struct Summary {
  std::map<std::string, int> starts;
  std::map<std::string, double> on_hours;
};

Summary run(const StoredProfiles& p, const std::vector<Row>& rows, bool print) {
  Summary sum;
  rules::State state;
  rules::Decision d;
  const rules::SteadyTime t0 = rules::SteadyTime{} + std::chrono::hours(24 * 365);
  std::map<std::string, bool> last_on;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    const rules::SteadyTime now = t0 + std::chrono::seconds(r.unix_s - rows.front().unix_s);
    rules::Snapshot s;
    s.now = now;
    const std::time_t tt = static_cast<std::time_t>(r.unix_s);
    std::tm tm{};
    localtime_r(&tt, &tm);
    s.local_minute_of_day = tm.tm_hour * 60 + tm.tm_min;
    if (r.battery_v) s.monitor_battery_v = rules::Reading{*r.battery_v, now};
    if (r.pv_w) s.pv_w = rules::Reading{*r.pv_w, now};
    if (r.load_w) s.load_w = rules::Reading{*r.load_w, now};
    if (r.battery_temp_c) s.battery_temp_c = rules::Reading{*r.battery_temp_c, now};
    for (const auto& z : p.rules.zones) {
      const auto it = r.zones.find(z.name);
      s.zone_temp_c.push_back(it == r.zones.end() ? std::nullopt : std::optional<rules::Reading>({it->second, now}));
    }
    rules::decide(s, p.rules, state, d);
    state = d.next;
    const double step_h = i + 1 < rows.size() ? static_cast<double>(rows[i + 1].unix_s - r.unix_s) / 3600.0 : 0;
    const auto note = [&](const std::string& name, const rules::LoadDecision& ld) {
      if (ld.on) sum.on_hours[name] += step_h;
      if (ld.changed && ld.on) ++sum.starts[name];
      if (print && (ld.changed || !last_on.count(name))) {
        fmt::print("{:02}:{:02}  {:<22} {:<4} {}\n", tm.tm_hour, tm.tm_min, name, ld.on ? "ON" : "off", rules::describe(ld.reason));
      }
      last_on[name] = ld.on;
    };
    for (std::size_t k = 0; k < p.rules.miners.size(); ++k) note(p.rules.miners[k].name, d.miners[k]);
    for (std::size_t k = 0; k < p.rules.zones.size(); ++k) {
      if (p.rules.zones[k].has_fan) note(p.rules.zones[k].name + " fan", d.zones[k].fan);
      if (p.rules.zones[k].has_heater) note(p.rules.zones[k].name + " heater", d.zones[k].heater);
    }
  }
  return sum;
}

}  // namespace

int cmd_replay(const std::vector<std::string>& argv) {
  if (!argv.empty() && argv[0] == "--help") {
    fmt::print(
        "usage: shackd replay [--config FILE] (--from CSV | --since ISO --until ISO) [--set KEY=VALUE ...]\n"
        "  Runs the rules over recorded telemetry with a virtual clock and prints the decisions.\n"
        "  --from CSV        columns: time (ISO UTC), battery_v, pv_w, load_w, battery_temp_c, zone.<name>\n"
        "  --since/--until   a time range of the database's telemetry table (one row per minute)\n"
        "  --set KEY=VALUE   a profile change to try: site.voltage_low=47.5,\n"
        "                    miners.Primary S21+.start_voltage=50.5, zones.Heat Room.too_hot_c=38\n"
        "  Nothing is switched, published or written.\n");
    return kExOk;
  }
  try {
    std::vector<std::string> sets, rest;
    for (std::size_t i = 0; i < argv.size(); ++i) {
      if (argv[i] == "--set" && i + 1 < argv.size()) sets.push_back(argv[++i]);
      else rest.push_back(argv[i]);
    }
    const Args a = parse_args("shackd replay", rest, {"--config", "--from", "--since", "--until"}, {});
    const ConfigResult c = load_config(a.get("--config", "/etc/shackd/shackd.yaml"));
    if (!c.config) {
      for (const auto& e : c.errors) fmt::print(stderr, "{}\n", e);
      return kExConfig;
    }
    db::Db db(c.config->database_path);
    require_current(db, embedded_migrations());
    StoredProfiles base = load_profiles(db);
    if (c.config->profiles) {
      const auto errors = overlay_profiles(*c.config->profiles, base, "profiles");
      for (const auto& e : errors) fmt::print(stderr, "{}\n", e);
      if (!errors.empty()) return kExConfig;
    }
    setenv("TZ", base.site.timezone.c_str(), 1);
    tzset();
    std::vector<Row> rows;
    if (a.values.count("--from")) rows = read_csv(a.get("--from", ""));
    else if (a.values.count("--since") && a.values.count("--until")) rows = read_db(db, a.get("--since", ""), a.get("--until", ""));
    else throw UsageError("shackd replay: give --from CSV, or --since and --until (see --help)");
    if (rows.empty()) {
      fmt::print(stderr, "shackd replay: no telemetry in that range\n");
      return kExDataErr;
    }
    StoredProfiles changed = base;
    if (!sets.empty()) {
      const auto errors = overlay_profiles(YAML::Load(overlay_yaml(sets))["profiles"], changed, "--set");
      if (!errors.empty()) {
        for (const auto& e : errors) fmt::print(stderr, "{}\n", e);
        return kExUsage;
      }
      fmt::print("replaying {} rows with: {}\n", rows.size(), fmt::join(sets, ", "));
    } else {
      fmt::print("replaying {} rows\n", rows.size());
    }
    const Summary after = run(changed, rows, true);
    if (!sets.empty()) {
      const Summary before = run(base, rows, false);
      fmt::print("\n{:<22} {:>16} {:>16}\n", "load", "as configured", "with --set");
      std::set<std::string> names;
      for (const auto& [n, h] : before.on_hours) names.insert(n);
      for (const auto& [n, h] : after.on_hours) names.insert(n);
      const auto get = [](const auto& m, const std::string& k) { return m.count(k) ? m.at(k) : decltype(m.begin()->second){}; };
      for (const auto& name : names) {
        fmt::print("{:<22} {:>9.1f} h {:>2} st {:>9.1f} h {:>2} st\n", name, get(before.on_hours, name),
                   get(before.starts, name), get(after.on_hours, name), get(after.starts, name));
      }
    }
    return kExOk;
  } catch (const UsageError& e) {
    fmt::print(stderr, "{}\n", e.what());
    return kExUsage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "shackd replay: {}\n", e.what());
    return kExDataErr;
  }
}

}  // namespace shackd
