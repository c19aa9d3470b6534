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

void Daemon::account_energy(rules::SteadyTime now, std::int64_t wall) {
  const auto day = local_day(wall);
  if (!day) return;  // no trusted date yet to count into
  std::vector<Draw> draws;
  for (const auto& l : core_.site().loads) {
    Draw d{l.state_key, decision_for(core_.decision(), l).on, std::nullopt, rated_draw_w(core_.site().profiles.rules, l)};
    if (mqtt_.relays() && mqtt_.relays()->has(l.id)) {
      // What the relay says beats what was commanded; a meter's word, while fresh (Tasmota's
      // TelePeriod is 300 s by default), beats the rating.
      const auto& st = mqtt_.relays()->status(l.id);
      if (st.observed) d.on = *st.observed;
      // A reading from before the relay last switched is about the other state: a plug that
      // reports every 300 s would count a fresh start at 0 W for minutes.
      const bool current = st.power_at && (!st.observed_since || *st.power_at >= *st.observed_since);
      if (st.power_w && current && now - *st.power_at <= std::chrono::minutes(10)) d.metered_w = st.power_w;
    }
    // Else a miner's own word on its draw (its API), while it answers: nearer than its rating,
    // above all for one that follows a power target or sleeps with its relay on.
    if (!d.metered_w && l.kind == LoadRef::Kind::miner) d.metered_w = miners_.draw_w(l.id, now);
    draws.push_back(std::move(d));
  }
  for (auto& f : site_flows(core_.snapshot(), core_.decision().battery.measured_v, core_.site().profiles.rules.site.electrical_stale_after)) {
    draws.push_back(std::move(f));
  }
  energy_.account(*day, now, draws, storage_.records(), storage_.recorder());
}

}  // namespace shackd
