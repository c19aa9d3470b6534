#pragma once
// The store's side of the daemon (issue 44): the database until the recorder takes it (a `once`
// run keeps it), the recorder and its figures, this cycle's records, the loads' rows as stored and
// the overrides to be written with them. The loop hands it values (the cycle's telemetry sample,
// the loads and their state, the overrides the core took) and reads back what the recorder said,
// as alarms to tell; from the recorder's start only its thread touches the database.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "daemon/core/cycle_record.hpp"
#include "daemon/core/events.hpp"
#include "daemon/core/loop_stats.hpp"
#include "daemon/recorder/energy_side.hpp"
#include "daemon/recorder/recorder.hpp"
#include "daemon/store/ac_overload_rows.hpp"
#include "daemon/store/journal_lines.hpp"
#include "daemon/site/loads.hpp"
#include "daemon/store/runtime_store.hpp"
#include "daemon/store/sqlite.hpp"
#include "daemon/system/instance_lock.hpp"
#include "drivers/thread/deadline.hpp"
#include "rules/state.hpp"
#include "rules/time.hpp"

namespace shackd {

// How long a reload's profiles or a setting from MQTT wait at most for the recorder to take them
// up (behind a slow write) before they are refused and said so: half an interval, 0.1 to 1 s.
inline std::chrono::milliseconds db_wait(std::chrono::milliseconds interval) {
  return std::clamp<std::chrono::milliseconds>(interval / 2, std::chrono::milliseconds(100), std::chrono::milliseconds(1000));
}

class StoreSide {
 public:
  // What the recorder said, to be told: `stored` an event like any other, else on MQTT only (the
  // store is what cannot take it).
  struct Alarm {
    bool raised = true;  // "alarm", else "alarm_end"
    std::string text;
    bool stored = true;
  };
  // One controller per database (daemon/system/instance_lock.hpp): taken at the start, released
  // only after the database has closed (the first member: destroyed last).
  bool lock(const std::string& database_path, std::string& why) {
    lock_ = InstanceLock::take(database_path, why);
    return lock_.has_value();
  }
  const InstanceLock* held_lock() const { return lock_ ? &*lock_ : nullptr; }
  // What the opener read (daemon_open.cpp): the database, its runtime store and the loads' rows.
  // `ac_overloads`: each AC source's phase's last overload as stored (daemon/store/ac_overload_rows.hpp).
  void take(std::unique_ptr<db::Db> db, std::unique_ptr<RuntimeStore> store, std::map<std::string, LoadStateRow> rows,
            AcOverloadRows ac_overloads = {});
  // From here on only the recorder's thread touches the database. Each event's fate is told to
  // what on_event_fate() gave.
  void start_recorder(RecorderOptions options);
  // Where each event's fate in the store is told (daemon/events/event_fates.hpp), before the
  // recorder starts: what hold() drops, then the recorder's.
  void on_event_fate(std::function<void(std::uint64_t seq, bool stored)> f) { event_fate_ = std::move(f); }
  bool open() const { return db_ || recorder_; }
  // The card could not take the database at the start: the site runs on a copy in memory
  // (daemon/store/run_database.hpp) that the recorder writes back at the stop. `why` says so.
  void in_memory(std::string why) { in_memory_ = std::move(why); }
  const std::string& in_memory() const { return in_memory_; }  // empty: on the card
  Recorder* recorder() const { return recorder_.get(); }  // null until it starts
  const std::map<std::string, LoadStateRow>& rows() const { return rows_; }
  // This cycle's records: the events, the energy and the charge limits add theirs.
  Records& records() { return records_; }
  // An override the core took: its row says so at the next persist.
  void overridden(const std::string& state_key) { changed_.insert(state_key); }
  // The recorder's face (issue 57): after each cycle, its projection of the cycle's record (the
  // telemetry sample), with this cycle's journal lines and the rules' state in force, handed on
  // as persist() does.
  void after_cycle(const CycleRecord& record, std::string journal_header, std::string journal_lines,
                   const rules::State& state, rules::SteadyTime now, std::int64_t wall_s);
  // The same with this cycle's lines of its own journal (journal()).
  void after_cycle(const CycleRecord& record, const rules::State& state, rules::SteadyTime now, std::int64_t wall_s) {
    after_cycle(record, journal_.header(), journal_.take_lines(), state, now, wall_s);
  }
  // The cycle journal's overrides, lines and header in force (daemon/store/journal_lines.hpp).
  JournalLines& journal() { return journal_; }
  // Each load's energy today, carried on across a restart (daemon/recorder/energy_side.hpp).
  const EnergySide& energy() const { return energy_; }
  // The energy meter's face: each load's draw since the last cycle into today's energy (and this
  // cycle's records), on the day's local date once one is trusted.
  void count_energy(const CycleRecord& record, rules::SteadyTime now, std::int64_t wall_s);
  // The cycle's sample and each load's row that changed, handed to the recorder (a merge under
  // its mutex: never waits on the disk).
  void persist(TelemetrySample sample, const std::vector<LoadRef>& loads, const rules::State& state, rules::SteadyTime now,
               std::int64_t wall_s);
  // Before the recorder runs (the safe state): the records held, bounded as its queue is, the
  // oldest going first, counted in `stats` (the events by their fate).
  void hold(LoopStats& stats);
  // The recorder's figures into `stats`, its notes logged; what is to be an alarm returned.
  std::vector<Alarm> tell(LoopStats& stats);
  // The recorder's face after a cycle (issue 57): tell(), its alarms to `events` (those the store
  // cannot take on MQTT only).
  void report(LoopStats& stats, Events& events, std::int64_t wall_s);
  const RecorderStats& stats() const { return stats_; }
  // Runs `f` against the database: on the recorder's thread once it runs, waiting at most
  // `bound` for it to start; false when it could not.
  bool with_db(const std::function<void(db::Db&)>& f, std::chrono::milliseconds bound);
  // The stop (issue 57: the recorder's stop face): the last records written within what is left of
  // `deadline`, capped by kLastWriteBound (a card that takes longer loses that write, says so in
  // the log, and the answer names what it lost); close() then closes the database.
  static constexpr std::chrono::milliseconds kLastWriteBound{8000};
  drivers::thread::Stopped stop(std::int64_t wall_s, const drivers::thread::Deadline& deadline);
  void close();

 private:
  std::optional<InstanceLock> lock_;  // first: released after the database below has closed
  std::unique_ptr<db::Db> db_;
  std::unique_ptr<RuntimeStore> store_;  // after db_: destroyed before the database it uses
  std::unique_ptr<Recorder> recorder_;
  Records records_;                            // this cycle's, handed over by persist()
  RecorderStats stats_;                        // as of the last cycle
  bool alarmed_ = false;                       // a store_error alarm is in force
  std::map<std::string, LoadStateRow> rows_;   // each load's row as last handed over
  AcOverloadRows ac_rows_;                     // each AC phase's overload row as last handed over
  std::set<std::string> changed_;              // overrides taken since the last persist
  std::string in_memory_;                      // why the database is a copy in memory; empty: it is not
  std::function<void(std::uint64_t, bool)> event_fate_;  // each event's fate in the store
  JournalLines journal_;                       // this cycle's journal lines and the header in force
  EnergySide energy_;                          // each load's energy today
};

}  // namespace shackd
