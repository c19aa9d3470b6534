#pragma once
// What `shackd replay` reads: the cycles to run the rules over (the cycle journal, or minute
// averages, or a CSV), the switchings the daemon recorded, and the load states it started from.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "daemon/site/loads.hpp"
#include "daemon/store/cycle_journal.hpp"
#include "daemon/store/runtime_store.hpp"
#include "daemon/store/sqlite.hpp"

namespace shackd {

// CSV: time (ISO UTC) then any of battery_v, battery_a (+ = charging), pv_w, load_w,
// battery_temp_c, chargers_limiting (1 while the chargers hold PV back, 0 not), zone.<name>. Each
// row is one cycle with fresh readings; local minutes from the process's TZ.
std::vector<JournalCycle> read_csv_cycles(const std::string& path);

// The cycle journal over [since, until): every cycle the daemon ran, with what it saw.
std::vector<JournalCycle> read_journal_cycles(db::Db& db, std::int64_t since_s, std::int64_t until_s);

// The telemetry table's minute averages over [since, until), one cycle per minute: all there is
// for a range the journal does not cover. Short dips are lost in them.
std::vector<JournalCycle> read_minute_cycles(db::Db& db, std::int64_t since_s, std::int64_t until_s);

struct Switching {
  std::int64_t wall_ms = 0;
  bool on = false;
  std::string reason;  // the reason's text (replay) or stable name (recorded)
};

// What happened to each load, by LoadRef::name: whether it was on at `from_ms`, and its
// switchings after. The same shape for the record and for a replay.
struct Timeline {
  std::int64_t from_ms = 0, to_ms = 0;
  std::map<std::string, bool> on_at_start;
  std::map<std::string, std::vector<Switching>> switchings;
  int starts(const std::string& load) const;
  double on_hours(const std::string& load) const;
};

// The actuation events of `loads` in [from_ms, to_ms]; each load's state before is `rows_at_start`
// (rows_before() at from_ms).
Timeline recorded_timeline(db::Db& db, const std::vector<LoadRef>& loads,
                           const std::map<std::string, LoadStateRow>& rows_at_start, std::int64_t from_ms,
                           std::int64_t to_ms);

// The load_state rows as they were at `at_s`, rebuilt from the actuation events before it: what a
// daemon starting then would have restored (overrides come with the journal's first cycle).
std::map<std::string, LoadStateRow> rows_before(db::Db& db, const std::vector<LoadRef>& loads, std::int64_t at_s);

// Config events in [since, until): profile changes a replay with today's profiles cannot follow.
std::vector<std::string> config_changes(db::Db& db, std::int64_t since_s, std::int64_t until_s);

}  // namespace shackd
