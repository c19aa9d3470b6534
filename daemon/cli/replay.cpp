#include "daemon/cli/replay.hpp"

#include <fmt/format.h>

#include <cmath>
#include <ctime>
#include <functional>
#include <map>

#include "daemon/cli/cli_args.hpp"
#include "daemon/cli/replay_inputs.hpp"
#include "daemon/config/ac_sources.hpp"
#include "daemon/config/config.hpp"
#include "daemon/config/miners_yaml.hpp"
#include "daemon/config/profiles_yaml.hpp"
#include "daemon/shadow/shadow_watch.hpp"
#include "daemon/store/ac_overload_rows.hpp"
#include "daemon/store/load_state_rows.hpp"
#include "daemon/vocab/publish.hpp"
#include "daemon/store/migrate.hpp"
#include "daemon/store/profile_store.hpp"
#include "daemon/store/runtime_store.hpp"
#include "daemon/store/sqlite.hpp"
#include "rules/decide.hpp"
#include "rules/validate.hpp"

namespace shackd {

namespace {

ProfileSet parse_set(const std::string& s) {
  std::string error;
  auto set = parse_profile_set(s, error);
  if (!set) throw UsageError("--set " + error);
  return *set;
}

std::string local_hms(std::int64_t wall_ms) {
  const std::time_t tt = static_cast<std::time_t>(wall_ms / 1000);
  std::tm tm{};
  localtime_r(&tt, &tm);
  return fmt::format("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string local_day(std::int64_t wall_ms) {
  const std::time_t tt = static_cast<std::time_t>(wall_ms / 1000);
  std::tm tm{};
  localtime_r(&tt, &tm);
  return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

// The rules over `cycles`, as the daemon ran them: the monotonic clock as recorded (continued
// across a restart by the wall-clock gap), the overrides in force each cycle, and at each start
// the state a starting daemon restores from load_state (kept here as the daemon keeps it).
// `each`, when given, is told every cycle's decision (the candidate's comparison below).
// Table ac_overload as it was at `at_s`, as far as it says: it keeps one row a phase, the last
// written, so a row written after `at_s` (its last_s after it) hides the one before and is left
// out; the replay writes its own from the range's cycles. A table that cannot be read: none.
AcOverloadRows ac_overloads_before(db::Db& db, std::int64_t at_s) {
  AcOverloadRows out;
  try {
    for (const auto& [key, row] : load_ac_overloads(db)) {
      if (row.last_s <= at_s) out.emplace(key, row);
    }
  } catch (const db::Error& e) {
    fmt::print(stderr, "shackd replay: cannot read table ac_overload, no overload hold restored: {}\n", e.what());
  }
  return out;
}

using EachCycle = std::function<void(std::size_t, const JournalCycle&, const rules::Decision&)>;
// `ac_rows`: table ac_overload as it was at the first cycle (ac_overloads_before()): the replay
// keeps its own rows from there as the recorder does, and restores them at the range's start and
// at each daemon start within it as the daemon's start does (daemon_open.cpp), so that an overload
// hold that survived a restart holds the replay's starts too.
Timeline run(const StoredProfiles& p, const std::vector<LoadRef>& loads, const std::vector<JournalCycle>& cycles,
             std::map<std::string, LoadStateRow> rows, AcOverloadRows ac_rows, bool print, const EachCycle& each = {}) {
  Timeline t;
  t.from_ms = cycles.front().wall_ms;
  t.to_ms = cycles.back().wall_ms;
  std::vector<std::string> zone_names;
  for (const auto& z : p.rules.zones) zone_names.push_back(z.name);
  std::vector<std::string> miner_names;
  for (const auto& m : p.rules.miners) miner_names.push_back(m.name);
  std::vector<std::string> ac_names;  // as the daemon's snapshot orders them (site_build.cpp)
  for (std::size_t i = 0; i < rules::ac_source_count(p.rules); ++i) ac_names.push_back(rules::ac_source(p.rules, i).name);
  const rules::SteadyTime base = rules::SteadyTime{} + std::chrono::hours(24 * 365);
  rules::SteadyTime now = base, segment_now = base;
  std::int64_t segment_steady_ms = cycles.front().steady_ms;
  rules::State state = restored_state(p.rules, loads, rows, now, t.from_ms / 1000);
  restore_ac_overloads(p.rules, ac_rows, state.site, now, t.from_ms / 1000);
  for (const auto& l : loads) t.on_at_start[l.name] = state_of(state, l).on;
  rules::Decision d;
  std::string day;
  std::map<std::string, bool> held;  // by load: on hidden surplus after the last cycle
  for (std::size_t i = 0; i < cycles.size(); ++i) {
    const JournalCycle& c = cycles[i];
    if (i > 0 && (c.started || c.steady_ms < cycles[i - 1].steady_ms)) {
      segment_now = now + std::chrono::milliseconds(std::max<std::int64_t>(0, c.wall_ms - cycles[i - 1].wall_ms));
      segment_steady_ms = c.steady_ms;
    }
    now = segment_now + std::chrono::milliseconds(c.steady_ms - segment_steady_ms);
    const std::int64_t wall_s = c.wall_ms / 1000;
    if (i > 0 && c.started) {
      state = restored_state(p.rules, loads, rows, now, wall_s);
      restore_ac_overloads(p.rules, ac_rows, state.site, now, wall_s);
      if (print) fmt::print("{}  shackd started: state restored from load_state\n", local_hms(c.wall_ms));
    }
    for (const auto& l : loads) {
      rules::Override ov;
      for (const auto& o : c.overrides) {
        if (o.state_key != l.state_key) continue;
        ov.mode = o.mode;
        if (o.remaining_ms) ov.until = now + std::chrono::milliseconds(*o.remaining_ms);
      }
      state_of(state, l).override_ = ov;
    }
    rules::decide(c.snapshot(now, zone_names, miner_names, ac_names), p.rules, state, d);
    state = d.next;
    ac_overload_changes(p.rules, state.site, ac_rows, now, wall_s);  // the rows the recorder writes (it keeps them)
    if (each) each(i, c, d);
    if (print && local_day(c.wall_ms) != day) {
      day = local_day(c.wall_ms);
      fmt::print("-- {}\n", day);
    }
    for (const auto& l : loads) {
      const auto& ld = decision_for(d, l);
      if (ld.changed) t.switchings[l.name].push_back({c.wall_ms, ld.on, rules::describe(ld.reason)});
      // A probe that holds switches nothing, but it is the moment the surplus proved to be there.
      const bool now_held = state_of(state, l).on_hidden_surplus;
      const bool hold = now_held && !std::exchange(held[l.name], now_held);
      if (!now_held) held[l.name] = false;
      if (print && (ld.changed || i == 0 || hold)) {
        fmt::print("{}  {:<22} {:<4} {}\n", local_hms(c.wall_ms), l.name, ld.on ? "ON" : "off", rules::describe(ld.reason));
      }
      // The rows only feed the restore at a restart: the override is rewritten every cycle (the
      // daemon rewrites it only on a command, to spare the disk a one-second wobble).
      const auto prev = rows.find(l.state_key);
      rows[l.state_key] =
          persist_load(l.state_key, state_of(state, l), prev == rows.end() ? nullptr : &prev->second, now, wall_s, true);
    }
  }
  return t;
}

// Agreement "within one cycle": the same switchings in the same order, each within one interval
// (plus the event's one-second resolution). Returns the differences, one line each.
std::vector<std::string> differences(const Timeline& recorded, const Timeline& replayed, const std::vector<LoadRef>& loads,
                                     std::chrono::milliseconds interval) {
  std::vector<std::string> out;
  const std::int64_t tolerance_ms = interval.count() + 1000;
  for (const auto& l : loads) {
    const auto& rec = recorded.switchings.at(l.name);
    const auto it = replayed.switchings.find(l.name);
    const std::vector<Switching> none;
    const auto& rep = it == replayed.switchings.end() ? none : it->second;
    if (recorded.on_at_start.at(l.name) != replayed.on_at_start.at(l.name)) {
      out.push_back(fmt::format("{}: recorded {} at the start, replay {}", l.name, recorded.on_at_start.at(l.name) ? "ON" : "off",
                                replayed.on_at_start.at(l.name) ? "ON" : "off"));
      continue;
    }
    for (std::size_t k = 0; k < std::max(rec.size(), rep.size()); ++k) {
      const auto show = [](const std::vector<Switching>& v, std::size_t at) {
        return at < v.size() ? fmt::format("{} at {} ({})", v[at].on ? "ON" : "OFF", local_hms(v[at].wall_ms), v[at].reason)
                            : std::string("nothing");
      };
      if (k < rec.size() && k < rep.size() && rec[k].on == rep[k].on && std::abs(rec[k].wall_ms - rep[k].wall_ms) <= tolerance_ms) {
        continue;
      }
      out.push_back(fmt::format("{}: switching {}: recorded {}, replay {}", l.name, k + 1, show(rec, k), show(rep, k)));
      break;
    }
  }
  return out;
}

void print_table(const std::vector<LoadRef>& loads, const std::vector<std::pair<std::string, const Timeline*>>& columns) {
  fmt::print("\n{:<22}", "load");
  for (const auto& [title, t] : columns) fmt::print(" {:>16}", title);
  fmt::print("\n");
  for (const auto& l : loads) {
    fmt::print("{:<22}", l.name);
    for (const auto& [title, t] : columns) fmt::print(" {:>9.2f} h {:>2} st", t->on_hours(l.name), t->starts(l.name));
    fmt::print("\n");
  }
}

std::string iso_utc_ms(std::int64_t wall_ms) {
  return fmt::format("{}.{:03}Z", iso_utc(wall_ms / 1000).substr(0, 19), wall_ms % 1000);
}

// Where the replay with --set differs from the one as configured, cycle for cycle: the spells a
// candidate profile with the same changes (loop.candidate) records live, found by the same
// comparison (daemon/shadow/shadow_watch.hpp, in the candidate's voice) over the same cycles.
// Returns them, and prints one line each.
std::vector<ShadowRow> candidate_spells(const StoredProfiles& base, const StoredProfiles& changed, const std::vector<LoadRef>& loads,
                                        const std::vector<JournalCycle>& cycles, const std::map<std::string, LoadStateRow>& rows,
                                        const AcOverloadRows& ac_rows, const std::vector<std::string>& sets) {
  // The configured decisions, a bit per load and cycle (a week of 2 s cycles and 6 loads: 2 MB).
  std::vector<std::vector<bool>> configured(cycles.size());
  run(base, loads, cycles, rows, ac_rows, false, [&](std::size_t i, const JournalCycle&, const rules::Decision& d) {
    for (const auto& l : loads) configured[i].push_back(decision_for(d, l).on);
  });
  ShadowWatch watch(ShadowVoice{.candidate = true, .sets = fmt::format("{}", fmt::join(sets, ", "))});
  std::vector<ShadowRow> spells;
  std::map<std::string, std::size_t> at;  // by load id: its open spell's place in `spells`
  const auto keep = [&](const ShadowNews& news) {
    for (const auto& r : news.rows) {
      const auto it = at.find(r.load_id);
      if (it != at.end() && spells[it->second].start_ms == r.start_ms) spells[it->second] = r;
      else at[r.load_id] = spells.size(), spells.push_back(r);
    }
  };
  run(changed, loads, cycles, rows, ac_rows, false, [&](std::size_t i, const JournalCycle& c, const rules::Decision& d) {
    ShadowInputs in;
    in.wall_ms = c.wall_ms;
    for (std::size_t k = 0; k < loads.size(); ++k) {
      in.loads.push_back(shadow_load(loads[k], decision_for(d, loads[k]), static_cast<bool>(configured[i][k])));
    }
    keep(watch.after_cycle(in));
  });
  std::map<std::string, std::string> names;
  for (const auto& l : loads) names[l.id] = l.name;
  fmt::print("\nwhere --set differs from as configured, cycle for cycle ({} spell(s)); a candidate profile with the same\n"
             "changes (loop.candidate) records the same in table candidate_differences:\n",
             spells.size());
  for (const auto& r : spells) {
    fmt::print("  {} {} {} to {}: with --set {}, as configured {}, {} cycle(s): {}\n", r.load_id, names[r.load_id],
               iso_utc_ms(r.start_ms), r.end_ms ? iso_utc_ms(*r.end_ms) : std::string("the end (still differs)"),
               r.would_on ? "ON" : "OFF", r.actual_on ? "ON" : "OFF", r.cycles, r.reason);
  }
  return spells;
}

}  // namespace

int cmd_replay(const std::vector<std::string>& argv) {
  if (!argv.empty() && argv[0] == "--help") {
    fmt::print(
        "usage: shackd replay [--config FILE] (--since ISO [--until ISO] | --from CSV) [--set KEY=VALUE ...]\n"
        "  Runs the rules again over what was recorded, with a virtual clock, and prints the decisions.\n"
        "  --since/--until   a time range (UTC, like 2026-06-21T05:00:00Z; --until defaults to now) of\n"
        "                    the database: the cycle journal (every cycle's inputs, kept\n"
        "                    database.journal_days), or the minute averages where there is none.\n"
        "                    The replay is compared with the switchings shackd recorded: exit 1 if\n"
        "                    they differ by more than one cycle.\n"
        "  --from CSV        columns: time (ISO UTC), battery_v, battery_a, pv_w, load_w, battery_temp_c,\n"
        "                    chargers_limiting (1 or 0), zone.<name>\n"
        "  --set KEY=VALUE   a profile change to try: site.voltage_low=47.5,\n"
        "                    miners.Primary S21+.start_voltage=50.5, zones.Heat Room.too_hot_c=38\n"
        "  Nothing is switched, published or written. The inputs are what was recorded: a load the\n"
        "  replay switches differently did not draw on them.\n");
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
    db::Db db(c.config->database_path, {.read_only = true});
    require_current(db, embedded_migrations());
    std::vector<std::string> config_errors;
    const auto in_force = profiles_in_force(load_profiles(db), c.config->profiles, config_errors);
    for (const auto& e : config_errors) fmt::print(stderr, "{}\n", e);
    if (!in_force) return kExConfig;
    StoredProfiles base = *in_force;
    apply_miner_targets(c.config->miners, base);  // as the daemon decides with them
    // The sources' ratings and each load's feed, likewise (issue 59); the config's check refused
    // what does not fit, so this says nothing unless the database's profiles differ.
    for (const auto& e : apply_ac_sources(*c.config, base)) fmt::print(stderr, "{}\n", e);
    setenv("TZ", base.site.timezone.c_str(), 1);
    tzset();
    StoredProfiles changed = base;
    if (!sets.empty()) {
      std::vector<ProfileSet> parsed;
      for (const auto& set : sets) parsed.push_back(parse_set(set));
      const auto errors = apply_profile_sets(changed, parsed, "--set");
      if (!errors.empty()) {
        for (const auto& e : errors) fmt::print(stderr, "{}\n", e);
        return kExUsage;
      }
    }
    const std::vector<LoadRef> loads = load_refs(base);

    std::vector<JournalCycle> cycles;
    std::map<std::string, LoadStateRow> start_rows;
    AcOverloadRows start_ac_rows;
    bool from_db = false, journal = false;
    std::int64_t since_s = 0, until_s = 0;
    if (a.values.count("--from")) {
      cycles = read_csv_cycles(a.get("--from", ""));
    } else if (a.values.count("--since")) {
      const auto iso = [&](const char* opt, const std::string& v) {
        const auto t = parse_iso_utc(v);
        if (!t) throw UsageError(fmt::format("shackd replay: {} '{}' is not a time like 2026-06-21T05:00:00Z", opt, v));
        return *t;
      };
      since_s = iso("--since", a.get("--since", ""));
      until_s = a.values.count("--until") ? iso("--until", a.get("--until", "")) : static_cast<std::int64_t>(std::time(nullptr));
      if (until_s <= since_s) throw UsageError("shackd replay: --until must be after --since");
      from_db = true;
      cycles = read_journal_cycles(db, since_s, until_s);
      journal = !cycles.empty();
      if (!journal) cycles = read_minute_cycles(db, since_s, until_s);
      if (!cycles.empty()) {
        start_rows = rows_before(db, loads, cycles.front().wall_ms / 1000);
        start_ac_rows = ac_overloads_before(db, cycles.front().wall_ms / 1000);
      }
    } else {
      throw UsageError("shackd replay: give --since (and --until), or --from CSV (see --help)");
    }
    if (cycles.empty()) {
      fmt::print(stderr, "shackd replay: no telemetry in that range\n");
      return kExDataErr;
    }
    fmt::print("replaying {} {} from {} to {}{}\n", cycles.size(),
               journal ? "cycles of the cycle journal" : from_db ? "minute averages" : "rows", iso_utc(cycles.front().wall_ms / 1000),
               iso_utc(cycles.back().wall_ms / 1000), sets.empty() ? "" : fmt::format(" with: {}", fmt::join(sets, ", ")));
    if (from_db && !journal) {
      fmt::print("  (no cycle journal covers this range: the minute averages lose short dips and spikes, so the\n"
                 "   comparison with the record is approximate)\n");
    }
    const Timeline after = run(changed, loads, cycles, start_rows, start_ac_rows, true);
    // The record cannot answer for a switching it did not make: say so beside the numbers.
    const auto inputs_note = [] {
      fmt::print("note: the inputs are what was recorded. A load this replay runs where the record did not\n"
                 "      drew nothing on them (the voltage would have been lower), and a hidden-surplus probe\n"
                 "      the record did not make holds or fails on the recorded current, not on whether the\n"
                 "      chargers would have ramped\n");
    };
    if (!from_db) {
      if (!sets.empty()) {
        const Timeline before = run(base, loads, cycles, start_rows, start_ac_rows, false);
        print_table(loads, {{"as configured", &before}, {"with --set", &after}});
        candidate_spells(base, changed, loads, cycles, start_rows, start_ac_rows, sets);
        inputs_note();
      }
      return kExOk;
    }
    const Timeline recorded = recorded_timeline(db, loads, start_rows, after.from_ms, after.to_ms);
    if (sets.empty()) {
      print_table(loads, {{"recorded", &recorded}, {"replay", &after}});
    } else {
      const Timeline before = run(base, loads, cycles, start_rows, start_ac_rows, false);
      print_table(loads, {{"recorded", &recorded}, {"as configured", &before}, {"with --set", &after}});
      candidate_spells(base, changed, loads, cycles, start_rows, start_ac_rows, sets);
      inputs_note();
      return kExOk;
    }
    for (const auto& change : config_changes(db, since_s, until_s)) {
      fmt::print("note: the profiles or config changed in this range ({}); the replay uses today's\n", change);
    }
    const auto diffs = differences(recorded, after, loads, c.config->interval);
    if (!journal) return kExOk;
    if (diffs.empty()) {
      fmt::print("the replay agrees with the record: every switching within one cycle ({} ms)\n", c.config->interval.count());
      return kExOk;
    }
    fmt::print("the replay differs from the record:\n");
    for (const auto& d : diffs) fmt::print("  {}\n", d);
    return 1;
  } catch (const UsageError& e) {
    fmt::print(stderr, "{}\n", e.what());
    return kExUsage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "shackd replay: {}\n", e.what());
    return kExDataErr;
  }
}

}  // namespace shackd
