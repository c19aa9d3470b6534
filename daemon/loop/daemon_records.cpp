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

#include "daemon/loop/state_restore.hpp"
#include "daemon/publish/render.hpp"
#include "daemon/publish/uplink.hpp"
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
    record_event(kind, load_id, r, detail, wall_now, snap, on, target_w);
  } catch (const std::exception& e) {
    side_failed(SideJob::events, e.what());
  }
}

void Daemon::record_event(const std::string& kind, const std::string& load_id, const rules::Reason& r,
                          const std::string& detail, std::int64_t wall_now, const rules::Snapshot* snap,
                          std::optional<bool> on, std::optional<double> target_w) {
  Event e;
  e.at_unix_s = wall_now;
  e.kind = kind == "override_rejected" ? "override" : kind;
  // Ids and details may quote what a client sent: valid UTF-8 from here on, and bounded.
  if (!load_id.empty()) e.load_id = drivers::text::clean_utf8(load_id, 64);
  e.commanded_on = on;
  // Only a target the schema takes (0010's CHECK): a row it refused would fail the whole flush.
  if (target_w && std::isfinite(*target_w) && *target_w > 0 && *target_w < 100000) e.target_w = target_w;
  e.reason_code = static_cast<int>(r.code);
  e.reason = std::string(rules::code_name(r.code));
  e.detail = drivers::text::clean_utf8(detail.empty() ? rules::describe(r) : detail, 1024);
  if (snap) {
    e.battery_v = decision_.battery.measured_v;
    e.voltage_source = std::string(source_name(snap->battery_v, decision_.battery.source));
    if (snap->pv_w) e.pv_w = snap->pv_w->value;
    if (snap->load_w) e.load_w = snap->load_w->value;
    if (const auto* t = source_at(snap->battery_temp_c, decision_.charge_temp_source)) e.temp_c = t->reading->value;
  }
  if (store_) store_->add_event(e);
  ++loop_.events;
  send_event(kind, e.load_id.value_or(""), r, e.detail, wall_now);
}

void Daemon::send_event(const std::string& kind, const std::string& load_id, const rules::Reason& r,
                        const std::string& detail, std::int64_t wall_now) {
  // Numbered whether or not it reaches a broker: a gap in `seq` says an event was lost on the way.
  const EventId id{fleet_site_id(), run_ms_, ++event_seq_};
  std::string text = event_json(kind, load_id, r, detail, wall_now, &id);
  if (seams_.publish || (mqtt_ && mqtt_->connected() && event_outbox_.empty())) {
    publish_event_text(text);
    return;
  }
  if (event_outbox_.size() >= kEventOutbox) {
    event_outbox_.pop_front();
    if (++events_unsent_ == 1 || events_unsent_ % 100 == 0) {
      log::warn("events: {} not sent to the broker (more than {} waited for it); the store has them", events_unsent_,
                kEventOutbox);
    }
  }
  event_outbox_.push_back(std::move(text));
}

void Daemon::publish_event_text(const std::string& text) {
  mqtt_publish(config_.mqtt.prefix + "/event", text, false);
  if (config_.uplink.enabled) mqtt_publish(uplink_topic(config_.mqtt.prefix, fleet_site_id(), "event"), text, false);
}

void Daemon::flush_event_outbox() {
  while (!event_outbox_.empty() && mqtt_ && mqtt_->connected()) {
    publish_event_text(event_outbox_.front());
    event_outbox_.pop_front();
  }
}

void Daemon::flush_pending_events() {
  for (const auto& detail : pending_events_) event("config", "", {rules::ReasonCode::none}, detail, clock_.wall_s());
  pending_events_.clear();
}

// What the rules are about to be given, for `shackd replay`: the snapshot and every override in
// force (the state before the rules run is what they see).
void Daemon::journal_cycle(const rules::Snapshot& snap) {
  if (config_.journal_days == 0) return;  // the owner turned it off: replay uses minute averages
  std::vector<JournalOverride> overrides;
  for (const auto& l : loads_) {
    const auto& ov = state_of(state_, l).override_;
    if (ov.mode == rules::OverrideMode::automatic) continue;
    std::optional<std::int64_t> left;
    if (ov.until) left = std::chrono::duration_cast<std::chrono::milliseconds>(*ov.until - snap.now).count();
    overrides.push_back({l.state_key, ov.mode, left});
  }
  const auto wall_ms = clock_.wall_ms();
  journal_lines_ = std::exchange(journal_started_, false) ? "S\n" : "";
  journal_lines_ += journal_cycle_line(snap, wall_ms, overrides, journal_miners_);
}

void Daemon::persist(const rules::Snapshot& snap, rules::SteadyTime now, std::int64_t wall_now) {
  TelemetrySample s;
  s.battery_v = decision_.battery.measured_v;
  s.soc_pct = decision_.battery.soc_pct;
  if (snap.pv_w) s.pv_w = snap.pv_w->value;
  if (snap.load_w) s.load_w = snap.load_w->value;
  if (const auto* t = source_at(snap.battery_temp_c, decision_.charge_temp_source)) s.battery_temp_c = t->reading->value;
  for (std::size_t i = 0; i < profiles_.rules.zones.size() && i < snap.zone_temp_c.size(); ++i) {
    s.zone_temps_c.emplace_back(profiles_.rules.zones[i].name,
                                snap.zone_temp_c[i] ? std::optional<double>(snap.zone_temp_c[i]->value) : std::nullopt);
  }
  s.journal_header = journal_header_;
  s.journal_lines = std::move(journal_lines_);
  journal_lines_.clear();
  store_->add_sample(wall_now, s);
  for (const auto& l : loads_) {
    const auto it = rows_.find(l.state_key);
    const bool ov = override_changed_.count(l.state_key) > 0;
    LoadStateRow row = persist_load(l.state_key, state_of(state_, l), it == rows_.end() ? nullptr : &it->second, now,
                                    wall_now, ov);
    store_->set_load_state(row);
    rows_[l.state_key] = row;
  }
  override_changed_.clear();
  try {
    const FlushStats f = store_->flush(wall_now);
    if (now - last_prune_ >= std::chrono::hours(1)) {
      store_->prune(wall_now, config_.telemetry_days, config_.events_days, 500, config_.journal_days);
      last_prune_ = now;
    }
    store_writing_again(wall_now, f.rejected);
  } catch (const db::Error& e) {
    // Disk full, read-only or locked: control goes on, the queue waits for the next try. An alarm
    // when it starts and an end when a write goes through, with the count between: not an event
    // every cycle (3,600 an hour onto a fleet's bridge, issue 48).
    ++loop_.store_errors;
    if (store_failures_++ == 0) {
      log::warn("{} ({} item(s) kept queued; tried again each cycle, said again when it writes)", e.what(),
                store_->queued());
      send_event("alarm", "", {rules::ReasonCode::none}, std::string("store_error: ") + e.what(), wall_now);
    } else {
      log::limited("store_error", log::Level::warn,
                   fmt::format("{} ({} failed write(s) in a row, {} item(s) queued)", e.what(), store_failures_,
                               store_->queued()));
    }
  }
}

void Daemon::store_writing_again(std::int64_t wall_now, int rejected) {
  if (store_failures_ > 0) {
    const std::string text = fmt::format("store_error: cleared: writing again after {} failed write(s)", store_failures_);
    log::info("{}", text);
    send_event("alarm_end", "", {rules::ReasonCode::none}, text, wall_now);
    store_failures_ = 0;
  }
  if (rejected > 0) {
    // A row the schema refused is dropped alone (RuntimeStore::run_row): said at the first, then
    // at most a few lines a minute, with the count since the start.
    const std::string text = fmt::format("store: {} row(s) refused by the database and dropped ({} since the start), "
                                         "the rest written: {}",
                                         rejected, store_->rejected(), store_->last_rejection());
    if (store_->rejected() == rejected) send_event("alarm", "", {rules::ReasonCode::none}, "store_rejected: " + text, wall_now);
    log::limited("store_rejected", log::Level::warn, text);
  }
}

void Daemon::database_in_memory(const std::string& why, bool copied) {
  db_in_memory_ = fmt::format(
      "database {}: the card cannot take it ({}): controlling the site from a copy in memory ({}); what is "
      "recorded now is written to the card at the stop if it has room then, else lost. Free space on the card, "
      "then: systemctl restart shackd",
      config_.database_path, why.substr(0, why.find('\n')),
      copied ? "its profiles, loads' states and history as the file holds them" : "a new database: the config's profiles");
  log::error("{}", db_in_memory_);
  // Minutes of journal are the bulk of a day's rows: kept out of memory (replay uses minute averages).
  config_.journal_days = 0;
}

void Daemon::write_back_database() {
  // A file whose data could not be read at the start (a history behind an I/O error, or what a
  // first start on a full card left) is never written over: it is moved aside first (a rename
  // takes no room), so the next start opens this run's database and the old one is still there.
  if (db_file_unread_) {
    const std::string aside = fmt::format("{}.unread-{}", config_.database_path, std::time(nullptr));
    if (std::rename(config_.database_path.c_str(), aside.c_str()) != 0) {
      log::error("database {}: what was recorded in memory since the start is lost: the file that could not be read "
                 "at the start cannot be moved aside ({})",
                 config_.database_path, std::strerror(errno));
      return;
    }
    // Its write-ahead log and journal go with it: left at the old name, SQLite would take them
    // for the new database's own and replay them into it.
    for (const char* sidecar : {"-wal", "-shm", "-journal"}) {
      const std::string from = config_.database_path + sidecar;
      if (::access(from.c_str(), F_OK) == 0) std::rename(from.c_str(), (aside + sidecar).c_str());
    }
    log::warn("database {}: the file that could not be read at the start is kept as {}", config_.database_path, aside);
  }
  std::string why;
  if (write_back(*db_, config_.database_path, why)) {
    log::info("database {}: what was recorded in memory is written to the card", config_.database_path);
  } else {
    log::error("database {}: what was recorded in memory since the start is lost: the card still cannot take it ({})",
               config_.database_path, why);
  }
}

void Daemon::check_database_file() {
  // One stat(2) a cycle: a few microseconds, and the alarm comes within a cycle.
  if (!db_file_) return;
  struct stat st {};
  const bool gone = ::stat(config_.database_path.c_str(), &st) != 0;
  const bool replaced = !gone && std::make_pair(st.st_dev, st.st_ino) != *db_file_;
  if (!gone && !replaced) {
    if (db_file_alarmed_) log::info("database {}: the file is back", config_.database_path);
    db_file_alarmed_ = false;
    return;
  }
  if (db_file_alarmed_) return;
  db_file_alarmed_ = true;
  const std::string what = fmt::format(
      "database {} was {} while shackd runs: what is written now goes to the old file and is lost at the next "
      "start; restore it from a backup, or restart shackd to begin a new one",
      config_.database_path, gone ? "deleted" : "replaced");
  log::error("{}", what);
  event("alarm", "", {rules::ReasonCode::none}, "database_file: " + what, clock_.wall_s());
}

void Daemon::account_energy(rules::SteadyTime now, std::int64_t wall) {
  const auto day = local_day(wall);
  if (!day) return;  // no trusted date yet to count into
  std::vector<Draw> draws;
  for (const auto& l : loads_) {
    Draw d{l.state_key, decision_for(decision_, l).on, std::nullopt, rated_draw_w(profiles_.rules, l)};
    if (relays_ && relays_->has(l.id)) {
      // What the relay says beats what was commanded; a meter's word, while fresh (Tasmota's
      // TelePeriod is 300 s by default), beats the rating.
      const auto& st = relays_->status(l.id);
      if (st.observed) d.on = *st.observed;
      // A reading from before the relay last switched is about the other state: a plug that
      // reports every 300 s would count a fresh start at 0 W for minutes.
      const bool current = st.power_at && (!st.observed_since || *st.power_at >= *st.observed_since);
      if (st.power_w && current && now - *st.power_at <= std::chrono::minutes(10)) d.metered_w = st.power_w;
    }
    // Else a miner's own word on its draw (its API), while it answers: nearer than its rating,
    // above all for one that follows a power target or sleeps with its relay on.
    if (!d.metered_w && l.kind == LoadRef::Kind::miner) d.metered_w = miner_draw_w(l.id, now);
    draws.push_back(std::move(d));
  }
  for (auto& f : site_flows(snap_, decision_.battery.measured_v, profiles_.rules.site.electrical_stale_after)) {
    draws.push_back(std::move(f));
  }
  const std::string counting = energy_.day();
  const auto finished = energy_.tick(*day, now, draws);
  if (!store_) return;
  if (finished) {
    for (const auto& [id, e] : finished->totals) store_->set_energy(finished->day, id, e);
  }
  if (energy_.day() != counting) {
    // A new day, or the first trusted date after a start (a Pi without a clock waits for NTP):
    // carry on from what is stored for it rather than write a fresh count over it.
    try {
      if (auto stored = store_->energy_on(*day); !stored.empty()) energy_.restore(*day, std::move(stored));
    } catch (const db::Error& e) {
      log::warn("energy of {}: cannot read what is stored ({}); counting from now", *day, e.what());
    }
  }
  for (const auto& [id, e] : energy_.totals()) store_->set_energy(energy_.day(), id, e);
}

}  // namespace shackd
