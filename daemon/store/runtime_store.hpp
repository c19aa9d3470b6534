#pragma once
// Runtime state and history in SQLite, written sparingly for an SD card:
// - load_state rows only when they change;
// - events as they happen (a few per hour);
// - telemetry aggregated in memory per UTC minute and written at most once a minute;
// all of it in one transaction per flush. A failed flush keeps everything queued (bounded) and
// reports the error: nothing is lost while the disk is full or the database is locked.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon/site/energy.hpp"
#include "daemon/store/sqlite.hpp"

namespace shackd {

// "2026-11-21T22:14:00Z"
std::string iso_utc(std::int64_t unix_s);

struct LoadStateRow {
  std::string load_id;  // "miner:<name>", "fan:<zone>", "heater:<zone>"
  bool commanded_on = false;
  std::optional<std::string> since;  // UTC, when the commanded state last changed
  std::optional<std::string> last_start;
  std::optional<std::string> last_stop;
  int starts_this_hour = 0;
  std::string override_mode = "auto";  // auto | on | off
  std::optional<std::string> override_until;
  std::int64_t on_seconds = 0;
  std::int64_t relay_cycles = 0;
  bool operator==(const LoadStateRow&) const = default;
};

struct Event {
  std::int64_t at_unix_s = 0;
  std::string kind;  // actuation | alarm | override | config | lifecycle
  std::optional<std::string> load_id;
  std::optional<bool> commanded_on;
  int reason_code = 0;
  std::string reason;  // the code's stable name
  std::string detail;
  std::optional<double> battery_v;
  std::optional<std::string> voltage_source;
  std::optional<double> pv_w, load_w, temp_c;
  std::optional<double> target_w;  // an actuation through a miner's API: the power target it took
  std::uint64_t seq = 0;           // the event's number in this run (its id's `seq`); 0: not followed
};

struct TelemetrySample {
  std::optional<double> battery_v, soc_pct, pv_w, load_w, battery_temp_c;
  std::vector<std::pair<std::string, std::optional<double>>> zone_temps_c;
  // The cycle journal (daemon/store/cycle_journal.hpp): the Z line of the zones in force, and this
  // cycle's lines (S, C). Empty lines: nothing journaled.
  std::string journal_header;
  std::string journal_lines;
};

// How often finished telemetry minutes and their cycle journal are written (RuntimeStore::
// telemetry_every_s). Each write is a transaction whose fixed cost in SQLite pages (the tables'
// and indexes' rightmost pages, the WAL frames) dominates a minute's few kB of journal.
inline constexpr int kTelemetryEverySDefault = 300;

struct FlushStats {
  int states = 0;
  int events = 0;
  int minutes = 0;
  int rejected = 0;  // rows the schema refused: dropped, the rest committed
};

class RuntimeStore {
 public:
  explicit RuntimeStore(db::Db& db);

  // Every persisted load state; also what later writes are compared with.
  std::map<std::string, LoadStateRow> load_states();

  void set_load_state(const LoadStateRow& row);  // queued only if it differs from the last written
  void add_event(Event event);
  void add_sample(std::int64_t unix_s, const TelemetrySample& sample);
  // A load's energy on a local day: written with the next telemetry minute when it changed.
  void set_energy(const std::string& day, const std::string& load_id, const LoadEnergy& e);
  // The stored energy of every load on `day`.
  std::map<std::string, LoadEnergy> energy_on(const std::string& day);

  // Writes what is due in one transaction: queued states and events at once, finished telemetry
  // minutes when `telemetry_every_s` has passed since the last telemetry write (or `force`).
  // Throws db::Error with everything still queued.
  FlushStats flush(std::int64_t unix_now, bool force = false);

  // Deletes at most `batch` rows of each table older than the retention, so a prune never
  // holds the write lock for long. Returns the rows deleted.
  int prune(std::int64_t unix_now, int telemetry_days = 30, int events_days = 90, int batch = 500,
            int journal_days = 7);

  std::size_t queued() const { return states_.size() + events_.size() + done_.size(); }
  // What is waiting because a flush failed or has not run yet: load states and events. (Finished
  // telemetry minutes wait up to a minute by design and are not counted.)
  std::size_t backlog() const { return states_.size() + events_.size(); }
  std::int64_t dropped() const { return dropped_; }  // items given up after a long outage
  std::int64_t events_dropped() const { return events_dropped_; }  // of which events (the rest: minutes)
  // Rows the schema refused since the start (each dropped alone: the rest of its flush committed),
  // and the last one's table and SQLite's words.
  std::int64_t rejected() const { return rejected_; }
  const std::string& last_rejection() const { return last_rejection_; }

  int telemetry_every_s = kTelemetryEverySDefault;
  std::size_t max_queued = 10000;  // beyond this (hours of a dead disk) the oldest are dropped
  // Told each event's fate by its `seq` (daemon/events/event_fates.hpp): written (true, once its
  // flush committed), or dropped here (false: past max_queued, or its row refused by the schema).
  std::function<void(std::uint64_t seq, bool stored)> event_fate;

 private:
  struct Agg {
    int n = 0;
    double min = 0, max = 0, sum = 0;
    void add(const std::optional<double>& v);
  };
  struct Minute {
    std::int64_t start_s = 0;
    int samples = 0;
    Agg battery_v, soc_pct, pv_w, load_w, battery_temp_c;
    std::map<std::string, Agg> zones;
    std::string journal, journal_header;
  };

  void trim();
  bool run_row(db::Stmt& s, const char* table, FlushStats& stats);

  db::Db& db_;
  std::map<std::string, LoadStateRow> written_;
  std::map<std::string, LoadStateRow> states_;
  using DayLoad = std::pair<std::string, std::string>;
  std::map<DayLoad, LoadEnergy> energy_, energy_written_;
  std::deque<Event> events_;
  std::optional<Minute> current_;
  std::deque<Minute> done_;
  std::int64_t last_telemetry_write_s_ = 0;
  std::int64_t dropped_ = 0, events_dropped_ = 0;
  std::int64_t rejected_ = 0;
  std::string last_rejection_;
};

}  // namespace shackd
