#pragma once
// The recorder (issue 44): the database on a thread of its own. The safety core hands it each
// cycle's records (events, telemetry with the cycle journal, load states, energy, the charge
// limits' rows) and the occasional task (a new day's energy, read) without ever waiting on the
// disk: post() takes a mutex for a merge, never across a write. The recorder writes them through
// RuntimeStore, one transaction at a time. A tired SD card that takes seconds a write (the most
// common way a Pi site fails) delays the history, never a cycle, a relay or the watchdog: before
// this, 3 s a write stopped every cycle and ping for 15 s and more.
//
// While it writes, what the core hands over waits merged in one pending batch: load states,
// energy and charge limits by key (the newest wins), events and telemetry samples in order up to
// their limits, past which the oldest go and are counted (`RecorderStats`): never silently. Each
// event's fate is told by its `seq` (RecorderOptions::event_fate): an event the store dropped went
// out on MQTT only if the outbox kept it (daemon/events/event_fates.hpp counts one neither kept).
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "daemon/site/energy.hpp"
#include "daemon/store/ac_overload_rows.hpp"
#include "daemon/store/charge_limit_rows.hpp"
#include "daemon/store/runtime_store.hpp"
#include "daemon/store/shadow_rows.hpp"
#include "daemon/store/sqlite.hpp"
#include "daemon/store/task_queue.hpp"

namespace shackd {

// One hand-over from the core. Several merge into one while the recorder writes.
struct Records {
  std::int64_t wall_s = 0;  // the newest cycle's wall time: the flush's "now"
  std::vector<Event> events;
  std::vector<std::pair<std::int64_t, TelemetrySample>> samples;  // at wall time, in order
  std::map<std::string, LoadStateRow> states;                       // by load id
  std::map<std::pair<std::string, std::string>, LoadEnergy> energy;  // by (day, load id)
  std::map<std::string, ChargeLimitRow> charge_limits;              // by limit name
  AcOverloadRows ac_overloads;  // each AC source's phase's last overload (issue 59), the newest wins
  // Shadow mode's spells (issue 60), by (load id, start): the newest state of each wins.
  std::map<SpellKey, ShadowRow> shadow;  // shadow mode's and a candidate's spells
  bool empty() const {
    return events.empty() && samples.empty() && states.empty() && energy.empty() && charge_limits.empty() &&
           ac_overloads.empty() && shadow.empty();
  }
};

// What the recorder has to say, for the core to tell (log lines, events, alarms).
struct RecorderNote {
  enum class Kind {
    store_failing,        // a write failed: the first of a run of failures (an alarm)
    store_still_failing,  // the run goes on: every 10 minutes, with its count (the log)
    store_ok,             // written again after failures, with their count (the alarm's end)
    rows_rejected,        // rows the schema refused, dropped alone; `first`: the first of the run
    lost,           // items dropped past a limit (events, telemetry samples)
    database_file,  // the database file was deleted or replaced under the running daemon
    info,           // for the log only
  };
  Kind kind = Kind::info;
  std::string text;
  bool first = false;  // rows_rejected: the first since the start
};

// Read by the core each cycle (status, <prefix>/loop, metrics): never waits on a write.
struct RecorderStats {
  std::size_t queued = 0;          // events and load states not yet written
  std::uint64_t errors = 0;        // failed writes (disk full, read-only, locked, I/O)
  std::uint64_t events_lost = 0;   // events dropped past the limits (the oldest first)
  std::uint64_t samples_lost = 0;  // telemetry samples and minutes dropped past the limits
  std::uint64_t store_dropped = 0; // items the store gave up after a long outage (RuntimeStore::dropped)
  std::uint64_t store_events_dropped = 0;  // of which events (the rest: telemetry minutes)
  std::uint64_t tasks_refused = 0; // tasks refused by a full task queue
  double writing_s = 0;            // a write under way for this long; 0: none
  std::uint64_t writes = 0;        // flushes that committed
};

struct RecorderOptions {
  int telemetry_days = 30, events_days = 90, journal_days = 7;
  std::string database_path;  // stat'ed after each write: a file deleted or replaced is an alarm
  std::optional<std::pair<dev_t, ino_t>> database_file;  // as opened
  std::size_t max_events = 10000;   // pending beyond the store's own queue; RuntimeStore bounds its own
  std::size_t max_samples = 3600;   // an hour of 1 s cycles
  std::size_t max_tasks = 64;
  // The database is a copy in memory (daemon/store/run_database.hpp: a card that could not take it
  // at the start): written over this file at the stop, after the last flush, if the card has room.
  std::string write_back_path;
  // Set: the file's own data could not be read at the start (RunDatabase::file_unread): it is
  // moved aside (with its WAL and journal) before the write-back, never written over.
  bool write_back_file_unread = false;
  // Told each event's fate by its `seq`, on whichever thread decides it: written once its flush
  // committed (true), or dropped (false) past the queue's limits or refused by the schema.
  std::function<void(std::uint64_t seq, bool stored)> event_fate;
};

class Recorder final : public DbTaskQueue {
 public:
  using Task = DbTaskQueue::Task;
  // Takes the database and the store: from here on only the recorder's thread uses them.
  Recorder(std::unique_ptr<db::Db> db, std::unique_ptr<RuntimeStore> store, RecorderOptions options);
  ~Recorder() override;  // stop(2 s) if not stopped
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Never waits on the database.
  void post(Records&& r);
  // Runs `t` on the recorder's thread, in order with the records; false when the task queue is
  // full (counted). A task that throws is logged and counted as a failed write.
  bool post_task(Task t) override;
  std::size_t max_tasks() const override;  // the task queue's bound (RecorderOptions::max_tasks)
  double writing_s() const override { return stats().writing_s; }
  // Runs `f` on the recorder's thread and waits for it. At `bound`, a call that has not started
  // is cancelled (false); one that has started is waited for to its end (its writes are a few
  // statements). For the rare jobs that need the database's answer: a reload's profiles, a
  // setting from MQTT.
  bool call(const std::function<void(db::Db&)>& f, std::chrono::milliseconds bound);
  RecorderStats stats() const;
  std::vector<RecorderNote> take_notes();
  // Waits, at most `bound`, until everything posted so far is written (or failed): for tests and
  // for `shackd` commands that read what was just written. False at the bound.
  bool settle(std::chrono::milliseconds bound);
  // A last flush of everything queued (the telemetry minute in progress too), waiting at most
  // `bound`; then the thread ends. False when it could not finish: what is lost is logged, and
  // the thread is left to finish (or die with the process) on its own.
  bool stop(std::chrono::milliseconds bound);
  void set_retention(int telemetry_days, int events_days, int journal_days);

 private:
  struct Shared;
  std::shared_ptr<Shared> s_;
  std::thread thread_;
  bool stopped_ = false;
};

// Adds `r` into `into`: events and samples appended, keyed rows replaced (the newest wins).
// Events past `max_events` and samples past `max_samples` are dropped, the oldest first; the
// counts are returned, and the dropped events' `seq` appended to `dropped_events` (if given).
std::pair<std::size_t, std::size_t> merge_records(Records& into, Records&& r, std::size_t max_events,
                                                  std::size_t max_samples,
                                                  std::vector<std::uint64_t>* dropped_events = nullptr);

}  // namespace shackd
