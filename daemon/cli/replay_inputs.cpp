#include "daemon/cli/replay_inputs.hpp"

#include <fmt/format.h>

#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "daemon/store/load_state_rows.hpp"

namespace shackd {

namespace {

std::optional<JournalCycle::Value> fresh(const std::optional<double>& v) {
  if (!v) return std::nullopt;
  return JournalCycle::Value{*v, 0};
}

// A recorded cycle without a journal: readings fresh, the monotonic clock the wall clock.
JournalCycle cycle_at(std::int64_t unix_s) {
  JournalCycle c;
  c.wall_ms = unix_s * 1000;
  c.steady_ms = c.wall_ms;
  const std::time_t tt = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  localtime_r(&tt, &tm);
  c.local_minute_of_day = tm.tm_hour * 60 + tm.tm_min;
  // A minute's average or a CSV column: one voltage and one temperature, whatever measured them.
  c.voltage_sources = {"battery_v"};
  c.temperature_sources = {"battery_temp"};
  c.battery_v.resize(1);
  c.battery_temp_c.resize(1);
  return c;
}

std::optional<double> cell(const std::string& s) {
  if (s.empty()) return std::nullopt;
  const auto v = parse_number(s);
  if (!v) throw std::runtime_error("'" + s + "' is not a number");
  return v;
}

std::string iso_ms(std::int64_t ms) { return iso_utc(ms / 1000); }

}  // namespace

std::vector<JournalCycle> read_csv_cycles(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read it");
  std::vector<JournalCycle> rows;
  std::vector<std::string> header, zones;
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
      for (const auto& h : header) {
        if (h.rfind("zone.", 0) == 0) zones.push_back(h.substr(5));
      }
      continue;
    }
    try {
      const auto t = parse_iso_utc(cells.at(0));
      if (!t) throw std::runtime_error("'" + cells[0] + "' is not a time like 2026-06-21T12:00:00Z");
      JournalCycle c = cycle_at(*t);
      c.zones = zones;
      c.zone_temp_c.resize(zones.size());
      for (std::size_t i = 1; i < cells.size() && i < header.size(); ++i) {
        const auto v = fresh(cell(cells[i]));
        const auto& h = header[i];
        // The telemetry table's column names are accepted too, so an export reads back.
        if (h == "battery_v" || h == "battery_v_avg") c.battery_v[0] = v;
        else if (h == "pv_w" || h == "pv_w_avg") c.pv_w = v;
        else if (h == "load_w" || h == "load_w_avg") c.load_w = v;
        else if (h == "battery_temp_c" || h == "battery_temp_c_avg") c.battery_temp_c[0] = v;
        else if (h == "battery_a") c.battery_a = v;
        else if (h == "chargers_limiting") c.chargers_limiting = v;
        for (std::size_t z = 0; z < zones.size(); ++z) {
          if (h == "zone." + zones[z]) c.zone_temp_c[z] = v;
        }
      }
      rows.push_back(std::move(c));
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("{}:{}: {}", path, n, e.what()));
    }
  }
  return rows;
}

std::vector<JournalCycle> read_journal_cycles(db::Db& db, std::int64_t since_s, std::int64_t until_s) {
  std::vector<JournalCycle> out;
  auto s = db.prepare(
      "SELECT minute_s, cycles FROM cycle_journal WHERE minute_s >= ? AND minute_s < ? ORDER BY minute_s");
  s.bind(1, since_s - (since_s % 60 + 60) % 60).bind(2, until_s);
  while (s.step()) read_journal_minute(s.integer(0), s.text(1), out);
  std::erase_if(out, [&](const JournalCycle& c) { return c.wall_ms < since_s * 1000 || c.wall_ms >= until_s * 1000; });
  return out;
}

std::vector<JournalCycle> read_minute_cycles(db::Db& db, std::int64_t since_s, std::int64_t until_s) {
  std::vector<JournalCycle> rows;
  std::vector<std::string> zones;
  auto zn = db.prepare("SELECT DISTINCT zone FROM telemetry_zone WHERE minute >= ? AND minute < ? ORDER BY zone");
  zn.bind(1, iso_utc(since_s)).bind(2, iso_utc(until_s));
  while (zn.step()) zones.push_back(zn.text(0));
  auto s = db.prepare(
      "SELECT minute, battery_v_avg, pv_w_avg, load_w_avg, battery_temp_c_avg FROM telemetry "
      "WHERE minute >= ? AND minute < ? ORDER BY minute");
  s.bind(1, iso_utc(since_s)).bind(2, iso_utc(until_s));
  std::map<std::string, std::size_t> by_minute;
  while (s.step()) {
    JournalCycle c = cycle_at(parse_iso_utc(s.text(0)).value_or(0));
    c.battery_v[0] = fresh(s.opt_real(1));
    c.pv_w = fresh(s.opt_real(2));
    c.load_w = fresh(s.opt_real(3));
    c.battery_temp_c[0] = fresh(s.opt_real(4));
    c.zones = zones;
    c.zone_temp_c.resize(zones.size());
    by_minute[s.text(0)] = rows.size();
    rows.push_back(std::move(c));
  }
  auto z = db.prepare("SELECT minute, zone, temp_c_avg FROM telemetry_zone WHERE minute >= ? AND minute < ?");
  z.bind(1, iso_utc(since_s)).bind(2, iso_utc(until_s));
  while (z.step()) {
    const auto it = by_minute.find(z.text(0));
    if (it == by_minute.end() || z.is_null(2)) continue;
    auto& c = rows[it->second];
    for (std::size_t i = 0; i < c.zones.size(); ++i) {
      if (c.zones[i] == z.text(1)) c.zone_temp_c[i] = JournalCycle::Value{z.real(2), 0};
    }
  }
  return rows;
}

int Timeline::starts(const std::string& load) const {
  int n = 0;
  if (const auto it = switchings.find(load); it != switchings.end()) {
    for (const auto& s : it->second) n += s.on;
  }
  return n;
}

double Timeline::on_hours(const std::string& load) const {
  const auto start = on_at_start.find(load);
  bool on = start != on_at_start.end() && start->second;
  std::int64_t since = from_ms, total_ms = 0;
  if (const auto it = switchings.find(load); it != switchings.end()) {
    for (const auto& s : it->second) {
      if (on && !s.on) total_ms += s.wall_ms - since;
      if (!on && s.on) since = s.wall_ms;
      on = s.on;
    }
  }
  if (on) total_ms += to_ms - since;
  return static_cast<double>(total_ms) / 3.6e6;
}

Timeline recorded_timeline(db::Db& db, const std::vector<LoadRef>& loads,
                           const std::map<std::string, LoadStateRow>& rows_at_start, std::int64_t from_ms,
                           std::int64_t to_ms) {
  Timeline t;
  t.from_ms = from_ms;
  t.to_ms = to_ms;
  const auto& rows = rows_at_start;
  auto s = db.prepare(
      "SELECT at, load_id, commanded_on, reason FROM events WHERE kind = 'actuation' AND at >= ? AND at <= ? "
      "ORDER BY at, id");
  s.bind(1, iso_ms(from_ms)).bind(2, iso_ms(to_ms));
  std::vector<std::tuple<std::int64_t, std::string, bool, std::string>> events;
  while (s.step()) {
    if (s.is_null(2)) continue;
    events.emplace_back(parse_iso_utc(s.text(0)).value_or(0) * 1000, s.text(1), s.integer(2) != 0, s.text(3));
  }
  for (const auto& l : loads) {
    const auto it = rows.find(l.state_key);
    t.on_at_start[l.name] = it != rows.end() && it->second.commanded_on;
    t.switchings[l.name];
    for (const auto& [at_ms, id, on, reason] : events) {
      // An event inside the first second belongs to the cycle the range starts with.
      if (id == l.id && at_ms >= from_ms - 999) t.switchings[l.name].push_back({std::max(at_ms, from_ms), on, reason});
    }
  }
  return t;
}

std::map<std::string, LoadStateRow> rows_before(db::Db& db, const std::vector<LoadRef>& loads, std::int64_t at_s) {
  std::map<std::string, LoadStateRow> rows;
  auto s = db.prepare(
      "SELECT at, commanded_on FROM events WHERE kind = 'actuation' AND load_id = ? AND at < ? "
      "AND commanded_on IS NOT NULL ORDER BY at DESC, id DESC LIMIT 50");
  for (const auto& l : loads) {
    s.reset();
    s.bind(1, l.id).bind(2, iso_utc(at_s));
    LoadStateRow r;
    r.load_id = l.state_key;
    bool any = false;
    while (s.step()) {
      const std::string at = s.text(0);
      const bool on = s.integer(1) != 0;
      if (!any) {
        r.commanded_on = on;
        r.since = at;
        any = true;
      }
      if (on && !r.last_start) r.last_start = at;
      if (!on && !r.last_stop) r.last_stop = at;
      if (on && at_s - parse_iso_utc(at).value_or(0) < 3600) ++r.starts_this_hour;
    }
    if (any) rows[l.state_key] = r;
  }
  return rows;
}

std::vector<std::string> config_changes(db::Db& db, std::int64_t since_s, std::int64_t until_s) {
  std::vector<std::string> out;
  auto s = db.prepare("SELECT at, detail FROM events WHERE kind = 'config' AND at >= ? AND at < ? ORDER BY at");
  s.bind(1, iso_utc(since_s)).bind(2, iso_utc(until_s));
  while (s.step()) out.push_back(s.text(0) + " " + s.text(1));
  return out;
}

}  // namespace shackd
