// What the daemon records: events (the store and <prefix>/event), each cycle's telemetry, journal
// and load states, and each load's energy today.
#include "daemon/loop/daemon.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>

#include "daemon/store/load_state_rows.hpp"
#include "daemon/vocab/render.hpp"
#include "daemon/vocab/uplink.hpp"
#include "daemon/store/cycle_journal.hpp"
#include "daemon/store/run_database.hpp"
#include "daemon/system/log.hpp"
#include "drivers/text/utf8.hpp"

namespace shackd {

void Daemon::event(const std::string& kind, const std::string& load_id, const rules::Reason& r,
                   const std::string& detail, std::int64_t wall_now, const rules::Snapshot* snap,
                   std::optional<bool> on, std::optional<double> target_w) {
  // Never throws: an event is a record of the cycle, and a record that fails (the store's queue,
  // the broker, text that is not UTF-8) is counted, not allowed to end the cycle.
  try {
    const EventLog::Context cycle{snap ? *snap : core_.snapshot(), core_.decision()};
    events_.record(event_route(), kind, load_id, r, detail, wall_now, snap ? &cycle : nullptr, on, target_w);
  } catch (const std::exception& e) {
    side_failed(SideJob::events, e.what());
  }
}

// The recorder's projection of the cycle's record (StoreSide::after_cycle), with the journal's
// lines. The rules' state in force, not the record's: a cycle that did not decide may have taken
// an override or a lost power into it since.
void Daemon::persist(const CycleRecord& r, rules::SteadyTime now, std::int64_t wall_now) {
  storage_.after_cycle(r, journal_.header(), journal_.take_lines(), core_.state(), now, wall_now);
}

// What the recorder had to say since the last cycle, and its figures for status and metrics.
void Daemon::tell_recorder(std::int64_t wall) {
  for (const auto& a : storage_.tell(stats_)) {
    if (a.stored) event(a.raised ? "alarm" : "alarm_end", "", {rules::ReasonCode::none}, a.text, wall);
    else events_.send(event_route(), a.raised ? "alarm" : "alarm_end", "", {rules::ReasonCode::none}, a.text, wall);
  }
  count_events(wall);
}

// The events' fates as counted where they happen (daemon/events/event_fates.hpp): what the store
// dropped, and what neither kept, an alarm at most every ten minutes while it grows.
void Daemon::count_events(std::int64_t wall) {
  const auto f = events_.fates();
  stats_.events_unstored = f.unstored;
  stats_.events_lost = f.lost;
  if (const auto text = events_.lost_alarm(clock_.steady())) {
    log::warn("{}", *text);
    event("alarm", "", {rules::ReasonCode::none}, *text, wall);
  }
}

void Daemon::database_in_memory(const std::string& why, bool copied) {
  storage_.in_memory(fmt::format(
      "database {}: the card cannot take it ({}): controlling the site from a copy in memory ({}); what is "
      "recorded now is written to the card at the stop if it has room then, else lost. Free space on the card, "
      "then: systemctl restart shackd",
      config_.database_path, why.substr(0, why.find('\n')),
      copied ? "its profiles, loads' states and history as the file holds them" : "a new database: the config's profiles"));
  log::error("{}", storage_.in_memory());
  // Minutes of journal are the bulk of a day's rows: kept out of memory (replay uses minute averages).
  config_.journal_days = 0;
}

// The energy meter's face (EnergySide::after_cycle), on the day's local date once one is trusted.
void Daemon::account_energy(const CycleRecord& record, rules::SteadyTime now, std::int64_t wall) {
  const auto day = local_day(wall);
  if (!day) return;  // no trusted date yet to count into
  energy_.after_cycle(record, *day, now, storage_.records(), storage_.recorder());
}

}  // namespace shackd
