// A start on a slow or failing card (issue 44, item 4): the database is opened, migrated and read
// (profiles, the loads' states with their overrides, the site's id, the charge limits' rows) on a
// thread of its own, never the loop's. The devices and MQTT start at once. start() waits for the
// opener a short bound (store_wait); past it the loop runs in the safe state (safe_cycle) until
// the stored state arrives, and takes it whole at the top of a cycle (take_store). A tired SD card
// that takes seconds a read used to hold the first decision, the first relay command and the
// first watchdog ping for as long.
#include "daemon/loop/daemon.hpp"

#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>

#include "daemon/store/charge_limit_rows.hpp"
#include "daemon/store/migrate.hpp"
#include "daemon/system/exit_codes.hpp"
#include "daemon/system/log.hpp"

namespace shackd {

// How long start() waits for the stored state before the loop begins in the safe state: two
// intervals, 5 to 10 s. A healthy card opens, migrates nothing and reads the profiles and states in
// tens of milliseconds, so a healthy start (an upgrade, a reboot) never enters the safe state and
// never power-cycles a running miner for nothing. Two intervals is what a cycle that waits for its
// slowest device's poll already costs (poll_devices: the longest timeout + 250 ms): the relays keep
// what the last run commanded, under their own dead-man, for no longer than a slow poll would
// leave them. Past it, the card is the slow part, and the site is better OFF than undecided.
std::chrono::milliseconds Daemon::store_wait() const {
  if (seams_.store_wait) return *seams_.store_wait;
  // At least 5 s: with 1 s, a restart under ASan on a loaded CI machine (interval 250 ms) took
  // longer to open a healthy database and cut a miner inside its min_on_s (daemon_e2e); a Pi
  // busy with an upgrade is no faster. The watchdog (WatchdogSec=30) is far from it either way.
  return std::clamp<std::chrono::milliseconds>(2 * config_.interval, std::chrono::seconds(5), std::chrono::seconds(10));
}

// On the opener's thread: reads no member of the running daemon but the options and seams (fixed
// from the start); its log lines are the start's, as before. The exit codes are start()'s of old.
Daemon::Opened Daemon::open_store(const Config& config, std::int64_t wall_s) const {
  Opened o;
  try {
    // A card that cannot take a write leaves the site controlled from a copy in memory (issue 48).
    o.run = open_run_database(config.database_path, embedded_migrations());
    const auto& m = o.run.migrated;
    if (!o.run.in_memory_because) {
      if (struct stat st{}; ::stat(config.database_path.c_str(), &st) == 0) o.file = std::make_pair(st.st_dev, st.st_ino);
    }
    if (!m.applied.empty()) log::info("database {}: migrated to schema version {}", config.database_path, m.applied.back());
    if (m.backup_path) log::info("database {}: backup before migrating: {}", config.database_path, *m.backup_path);
    o.loaded = load_site(*o.run.db, config, true);
    if (!o.loaded.ok || !o.loaded.ready) {
      o.exit_code = kExConfig;
      return o;
    }
    o.store = std::make_unique<RuntimeStore>(*o.run.db);
    o.id = site_identity(*o.run.db, config.site_name, wall_s);
    o.rows = o.store->load_states();
    if (!config.dry_run && !options_.once) {
      try {
        o.charge_rows = load_charge_limits(*o.run.db);
      } catch (const db::Error& e) {
        o.charge_failed = e.what();
      }
    }
    // From here on the recorder writes: waiting the default 5 s for another writer (a `sqlite3`
    // shell, a backup) would only delay the history, but a short wait lets the recorder take
    // what the core handed over meanwhile. A busy flush keeps its queue for the next try (the
    // DB-locked row of the fault matrix).
    sqlite3_busy_timeout(o.run.db->raw(), static_cast<int>(std::clamp<long long>(config.interval.count() / 4, 10, 250)));
  } catch (const MigrationError& e) {
    log::error("database {}: refused:\n{}", config.database_path, e.what());
    // A full disk is not a wrong config: 75 is restarted by the unit (RestartPreventExitStatus=78
    // is not), so the site is controlled again once space is freed.
    o.exit_code = e.temporary() ? kExTempFail : kExConfig;
  } catch (const db::Error& e) {
    log::error("{}{}", e.what(), e.temporary() ? " (temporary: the service is restarted and tries again)" : "");
    o.exit_code = e.temporary() ? kExTempFail : kExDataErr;
  } catch (const std::exception& e) {
    log::error("{}", e.what());
    o.exit_code = kExConfig;
  }
  if (o.exit_code) {  // nothing of it is used: closed here, on this thread
    o.store.reset();
    o.run.db.reset();
  }
  return o;
}

// The opener's result, taken whole by the loop (at the start, or at the top of a cycle): the
// profiles and the runtime they make, the loads' states and overrides, the site's id, the
// recorder, the charge limits. An exit code when the database could not be opened or read.
std::optional<int> Daemon::take_store() {
  if (store_taken_) return std::nullopt;
  const std::unique_ptr<Opened> o = opener_.take();
  if (!o) return std::nullopt;
  if (o->exit_code) return o->exit_code;
  store_taken_ = true;
  if (o->run.in_memory_because) {
    db_file_unread_ = o->run.file_unread;
    database_in_memory(*o->run.in_memory_because, o->run.copied_from_file);
  } else {
    db_file_ = o->file;
  }
  for (auto& e : o->loaded.events) events_.hold(std::move(e));
  take_profiles(std::move(*o->loaded.ready));
  offer_settings();
  const std::int64_t wall = clock_.wall_s();
  if (!db_in_memory_.empty()) event("alarm", "", {rules::ReasonCode::none}, db_in_memory_, wall);
  site_id_ = o->id.site_id;
  if (o->id.fixed_now) {
    log::info("site id {} (from site.name '{}'): Home Assistant's ids; a later rename keeps them", o->id.site_id,
              config_.site_name);
  } else if (config_.site_name != o->id.named_from) {
    log::info("site.name is '{}', was '{}': Home Assistant shows the new name and keeps the ids of site id {}",
              config_.site_name, o->id.named_from, o->id.site_id);
  }
  for (const auto& detail : events_.take_held()) event("config", "", {rules::ReasonCode::none}, detail, clock_.wall_s());
  storage_.take(std::move(o->run.db), std::move(o->store), std::move(o->rows));
  restore_state();
  if (!options_.once) {
    // From here on only the recorder's thread touches the database.
    storage_.start_recorder(RecorderOptions{.telemetry_days = config_.telemetry_days,
                                                           .events_days = config_.events_days,
                                                           .journal_days = config_.journal_days,
                                                           .database_path = config_.database_path,
                                                           .database_file = db_file_,
                                                           .write_back_path = db_in_memory_.empty()
                                                                                  ? std::string()
                                                                                  : config_.database_path,
                                                           .write_back_file_unread = db_file_unread_});
    if (!o->charge_failed.empty()) {
      log::warn("charge limits: cannot read their state, assuming none is held at 0 A: {}", o->charge_failed);
    }
    build_charge_limits(std::move(o->charge_rows));  // after the devices: they write them
  }
  if (safe_since_) {
    const double waited_s = std::chrono::duration<double>(clock_.steady() - *safe_since_).count();
    const std::string text = fmt::format(
        "store_unread: cleared: the stored state was read after {:.0f} s in the safe state; normal control begins", waited_s);
    log::info("{}", text);
    // The loads the safe state switched off: in the history as what they were, OFF since then.
    for (const auto& l : core_.site().loads) {
      const auto it = storage_.rows().find(l.state_key);
      if (safe_off_at_ && it != storage_.rows().end() && it->second.commanded_on) {
        event("actuation", l.id, {rules::ReasonCode::none},
              "switched OFF at the start: the stored state was not read in time (the safe state)", wall, nullptr, false);
      }
    }
    event("alarm_end", "", {rules::ReasonCode::none}, text, wall);
    // Relays the config defines that no profile switches were commanded OFF with the rest; they are
    // the owner's again (no resend of that OFF).
    if (relays_) {
      std::set<std::string> switched;
      for (const auto& l : core_.site().loads) switched.insert(l.id);
      for (const auto& id : relay_ids(config_)) {
        if (!switched.count(id)) relays_->release(id);
      }
    }
    safe_since_.reset();
    core_.stats().store_unread_s = 0;
  }
  publisher_.forget();  // everything again, Home Assistant's discovery with the loads
  return std::nullopt;
}

// A cycle before the stored state is taken. The rules cannot decide honestly: a load's start and
// stop voltages, schedules, temperatures and overrides are the database's (the config's profiles:
// section is laid over them, and a setting made over MQTT lives only there), and so is whether a
// load is inside its minimum on time. So the cycle reads the devices and MQTT as ever, commands
// every relay the config defines OFF, pings the watchdog and says so. OFF is each load's safe
// state (docs/solar-shack.md):
// - Miners (3.2-3.9 kW each) are the bank's largest draw; OFF never drains a LiFePO4 bank, ON may
//   take it under its shutdown voltage unseen. The relay is cut at once, without the API's soft
//   stop: every safety stop does so (rules' LoadDecision::safety_stop), and the loads' profiles
//   are what that sequence needs. ASIC supplies want minutes between power cycles: the load is
//   taken as OFF since this cycle when the stored state arrives (restore_state), so its minimum
//   off time applies before any restart.
// - Heaters protect the battery's room from frost (heating on at 0 °C): minutes without one are
//   within that room's thermal mass, and the battery is never charged below 0 °C either way (the
//   BMS's own cut-off, and the charge block once the state is read).
// - Exhaust fans cool the miners' room; with the miners OFF the heat they remove is gone.
// - The charge block's limits are left as the devices hold them: a limit the last run held at
//   0 A stays at 0 A (only its stored row says what to put back, so none is put back unread), and
//   a new block waits for the stored thresholds and rows.
void Daemon::safe_cycle() {
  const ReadTimes times = read_step(clock_.steady());
  const auto now = times.now;
  const auto wall = times.wall;
  if (!safe_since_) safe_since_ = now;
  bool switched = true;
  if (relays_ && !config_.dry_run) {
    switched = core_.all_off(relay_ids(config_), now, *relays_);
    if (switched && !safe_off_at_) safe_off_at_ = now;
  }
  // The watchdog: the loop is alive and the site in its safe state.
  if (switched) {
    if (!ready_) {
      ready_ = true;
      say_systemd("READY=1");
    }
    say_systemd("WATCHDOG=1");
  }
  core_.stats().store_unread_s = std::chrono::duration<double>(now - *safe_since_).count();
  if (!std::exchange(safe_told_, true)) {
    const std::string text = fmt::format(
        "store_unread: the database {} has not answered within {} ms of the start (a slow or failing card): every "
        "relay is held OFF until the stored state (profiles, loads' states and overrides) is read",
        config_.database_path, store_wait().count());
    log::warn("{}", text);
    event("alarm", "", {rules::ReasonCode::none}, text, wall);
  }
  guarded(SideJob::poll, [&] { tell_polls(); });
  guarded(SideJob::events, [&] { record_relay_alarms(); });
  // The loop's figures and the events; Home Assistant's discovery waits for the loads.
  guarded(SideJob::publish, [&] {
    publish(now, true);
    core_.stats().events_unsent = events_.pump();
    tell_publisher(now, wall);
  });
  // What waits for the recorder (its events) is bounded as the recorder's own queue is: the
  // oldest go first, counted.
  guarded(SideJob::persist, [&] { storage_.hold(core_.stats()); });
  guarded(SideJob::metrics, [&] { export_metrics(now, wall); });
  core_.stats().log_lost = log::lost_lines();
  say_systemd("STATUS=" + status_line());
}

}  // namespace shackd
