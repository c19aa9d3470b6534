// A start on a slow or failing card (issue 44, item 4): the database is opened, migrated and read
// (profiles, the loads' states with their overrides, the site's id, the charge limits' rows) on a
// thread of its own, never the loop's. The devices and MQTT start at once. start() waits for the
// opener a short bound (store_wait); past it the loop runs in the safe state (safe_cycle) until
// the stored state arrives, and takes it whole at the top of a cycle (take_store). A tired SD card
// that takes seconds a read used to hold the first decision, the first relay command and the
// first watchdog ping for as long.
#include "daemon/loop/daemon.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "daemon/loop/power_cut.hpp"
#include "daemon/store/charge_limit_rows.hpp"
#include "daemon/store/last_run.hpp"
#include "daemon/store/load_state_rows.hpp"
#include "daemon/system/exit_codes.hpp"
#include "daemon/system/log.hpp"

namespace shackd {

// The opener's result, taken whole by the loop (at the start, or at the top of a cycle): the
// profiles and the runtime they make, the loads' states and overrides, the site's id, the
// recorder, the charge limits. An exit code when the database could not be opened or read.
std::optional<int> Daemon::take_store() {
  if (start_.taken()) return std::nullopt;
  const std::unique_ptr<OpenedStore> o = start_.opener().take();
  if (!o) return std::nullopt;
  if (o->exit_code) return o->exit_code;
  start_.took();
  if (o->run.in_memory_because) database_in_memory(*o->run.in_memory_because, o->run.copied_from_file);
  for (auto& e : o->loaded.events) events_.hold(std::move(e));
  take_profiles(std::move(*o->loaded.ready));  // nothing is removed at the start: no site ran before
  const std::int64_t wall = clock_.wall_s();
  if (!storage_.in_memory().empty()) event("alarm", "", {rules::ReasonCode::none}, storage_.in_memory(), wall);
  site_id_ = o->id.site_id;
  intake_.configure(config_, fleet_site_id());  // the uplink's bridge is named by the site's id
  intake_.offer(core_.site().profiles, core_.site().loads);
  if (o->id.fixed_now) {
    log::info("site id {} (from site.name '{}'): Home Assistant's ids; a later rename keeps them", o->id.site_id,
              config_.site_name);
  } else if (config_.site_name != o->id.named_from) {
    log::info("site.name is '{}', was '{}': Home Assistant shows the new name and keeps the ids of site id {}",
              config_.site_name, o->id.named_from, o->id.site_id);
  }
  for (const auto& detail : events_.take_held()) event("config", "", {rules::ReasonCode::none}, detail, clock_.wall_s());
  storage_.take(std::move(o->run.db), std::move(o->store), std::move(o->rows));
  const auto now = clock_.steady();
  core_.take_site(core_.site(), restored_at_start(core_.site().profiles.rules, core_.site().loads, storage_.rows(),
                                                  start_.off_at(), now, clock_.wall_s()));  // the site copied as it is
  // Did the loads lose their power while shackd was away (issue 56)? Each relay says, by its
  // uptime; until it has, no ON goes to it (drivers/mqtt/relays.hpp).
  const std::optional<HostBoot> boot = seams_.host_boot ? seams_.host_boot() : read_host_boot();
  if (mqtt_.relays() && !config_.dry_run && !options_.once) {
    std::string said;
    mqtt_.relays()->await_word(
        start_known(o->last_run, boot, core_.state(), core_.site().loads, now, clock_.wall_s(), said), now);
    log::info("{}", said);
  }
  if (!options_.once) {
    // From here on only the recorder's thread touches the database.
    storage_.start_recorder(RecorderOptions{
        .telemetry_days = config_.telemetry_days,
        .events_days = config_.events_days,
        .journal_days = config_.journal_days,
        .database_path = config_.database_path,
        .database_file = o->file,
        .write_back_path = storage_.in_memory().empty() ? std::string() : config_.database_path,
        .write_back_file_unread = o->run.in_memory_because && o->run.file_unread,
        .event_fate = {}});  // StoreSide sets it
    if (!o->charge_failed.empty()) {
      log::warn("charge limits: cannot read their state, assuming none is held at 0 A: {}", o->charge_failed);
    }
    build_charge_limits(std::move(o->charge_rows));  // after the devices: they write them
    // This start's boot, for the next start's judgement (one write).
    if (boot && storage_.recorder()) {
      storage_.recorder()->post_task([id = boot->boot_id, wall](db::Db& db, RuntimeStore&) { write_host_boot(db, id, wall); });
    }
  }
  if (const auto waited_s = start_.ended(clock_.steady())) {
    const std::string text = fmt::format(
        "store_unread: cleared: the stored state was read after {:.0f} s in the safe state; normal control begins", *waited_s);
    log::info("{}", text);
    // The loads the safe state switched off: in the history as what they were, OFF since then.
    for (const auto& l : core_.site().loads) {
      const auto it = storage_.rows().find(l.state_key);
      if (start_.off_at() && it != storage_.rows().end() && it->second.commanded_on) {
        event("actuation", l.id, {rules::ReasonCode::none},
              "switched OFF at the start: the stored state was not read in time (the safe state)", wall, nullptr, false);
      }
    }
    event("alarm_end", "", {rules::ReasonCode::none}, text, wall);
    // Relays the config defines that no profile switches were commanded OFF with the rest; they are
    // the owner's again (no resend of that OFF).
    if (mqtt_.relays()) {
      std::set<std::string> switched;
      for (const auto& l : core_.site().loads) switched.insert(l.id);
      for (const auto& id : relay_ids(config_)) {
        if (!switched.count(id)) mqtt_.relays()->release(id);
      }
    }
    stats_.store_unread_s = 0;
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
  bool switched = true;
  if (mqtt_.relays() && !config_.dry_run) {
    mqtt_.relays()->take_power_news();  // every relay is held OFF here, whatever it lost
    switched = core_.all_off(relay_ids(config_), now, *mqtt_.relays());
    if (switched) start_.all_off(now);
  }
  // The watchdog: the loop is alive and the site in its safe state.
  if (switched) systemd_.alive();
  take_core_counts();
  stats_.store_unread_s = start_.safe_cycle(now);
  if (start_.first_said()) {
    const std::string text = fmt::format(
        "store_unread: the database {} has not answered within {} ms of the start (a slow or failing card): {} "
        "until the stored state (profiles, loads' states and overrides) is read",
        config_.database_path, start_.wait().count(),
        config_.shadow ? "shackd decides nothing (shadow mode: it commands no relay either)" : "every relay is held OFF");
    log::warn("{}", text);
    event("alarm", "", {rules::ReasonCode::none}, text, wall);
  }
  guarded(SideJob::poll, [&] { tell_polls(); });
  guarded(SideJob::events, [&] { record_relay_alarms(); });
  // The loop's figures and the events; Home Assistant's discovery waits for the loads.
  CycleRecordPtr record;
  guarded(SideJob::publish, [&] { record = seal_record(now); });  // none decided yet: an empty one with this cycle's figures
  guarded(SideJob::publish, [&] {
    if (times.connected) events_.pump();  // a connection's events first (Daemon::cycle)
    if (record) publish(record, true);
    stats_.events_unsent = events_.pump();
    tell_publisher(now, wall);
  });
  // What waits for the recorder (its events) is bounded as the recorder's own queue is: the
  // oldest go first, counted.
  guarded(SideJob::persist, [&] {
    storage_.hold(stats_);
    count_events(wall);
  });
  if (record) guarded(SideJob::metrics, [&] { export_metrics(*record, now, wall); });
  stats_.log_lost = log::lost_lines();
  systemd_.say("STATUS=" + status_line());
}

}  // namespace shackd
