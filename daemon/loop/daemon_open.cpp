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
#include "daemon/store/ac_overload_rows.hpp"
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
  if (o->run.in_memory_because) {
    const std::string& why = *o->run.in_memory_because;
    storage_.in_memory(fmt::format(
        "database {}: the card cannot take it ({}): controlling the site from a copy in memory ({}); what is "
        "recorded now is written to the card at the stop if it has room then, else lost. Free space on the card, "
        "then: systemctl restart shackd",
        config_.database_path, why.substr(0, why.find('\n')),
        o->run.copied_from_file ? "its profiles, loads' states and history as the file holds them"
                                : "a new database: the config's profiles"));
    log::error("{}", storage_.in_memory());
    // Minutes of journal are the bulk of a day's rows: kept out of memory (replay uses minute averages).
    config_.journal_days = 0;
  }
  for (auto& e : o->loaded.events) events_.hold(std::move(e));
  take_profiles(std::move(*o->loaded.ready));  // nothing is removed at the start: no site ran before
  const std::int64_t wall = loop_.clock().wall_s();
  if (!storage_.in_memory().empty()) events_.add(site_event("alarm", storage_.in_memory(), wall));
  start_.site_id(o->id.site_id);
  configure_names();
  desk_.intake().offer(loop_.profiles(), loop_.loads());
  if (o->id.fixed_now) {
    log::info("site id {} (from site.name '{}'): Home Assistant's ids; a later rename keeps them", o->id.site_id,
              config_.site_name);
  } else if (config_.site_name != o->id.named_from) {
    log::info("site.name is '{}', was '{}': Home Assistant shows the new name and keeps the ids of site id {}",
              config_.site_name, o->id.named_from, o->id.site_id);
  }
  for (const auto& detail : events_.take_held()) events_.add(site_event("config", detail, loop_.clock().wall_s()));
  storage_.take(std::move(o->run.db), std::move(o->store), std::move(o->rows), o->ac_overloads);
  const auto now = loop_.clock().steady();
  SafetyCore& core = loop_.core();
  rules::State restored =
      restored_at_start(loop_.profiles().rules, loop_.loads(), storage_.rows(), start_.off_at(), now, loop_.clock().wall_s());
  // An overload before the stop still holds the starts on its source (issue 59): a trip that took
  // the Pi's power with it must not be followed by every load at once.
  if (!o->ac_overload_failed.empty()) {
    log::warn("AC sources: cannot read their last overloads, holding no start for them: {}", o->ac_overload_failed);
  }
  for (const auto& line : restore_ac_overloads(loop_.profiles().rules, o->ac_overloads, restored.site, now,
                                               loop_.clock().wall_s())) {
    log::info("{}", line);
  }
  core.take_site(core.site(), std::move(restored));  // the site copied as it is
  // A candidate profile (issue 60) starts from the state the profiles in force restored.
  if (!options_.once) {
    loop_.guarded(SideJob::shadow, [&] {
      shadow_.candidate(config_.candidate, core.state(), loop_.loads(), loop_.clock().wall_ms(),
                        ShadowSide::out_to(publisher_, storage_.recorder(), config_, loop_.clock().wall_s(),
                                           start_.site_id()));
    });
  }
  // Did the loads lose their power while shackd was away (issue 56)? Each relay says, by its
  // uptime; until it has, no ON goes to it (drivers/mqtt/relays.hpp).
  const std::optional<HostBoot> boot = seams_.host_boot ? seams_.host_boot() : read_host_boot();
  if (mqtt_.relays() && !config_.dry_run && !options_.once) {
    std::string said;
    mqtt_.relays()->await_word(
        start_known(o->last_run, boot, core.state(), loop_.loads(), now, loop_.clock().wall_s(), said), now);
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
    loop_.build_charge_limits(config_, options_.once, std::move(o->charge_rows), storage_);  // after the devices: they write them
    // This start's boot, for the next start's judgement (one write).
    if (boot && storage_.recorder()) {
      storage_.recorder()->post_task([id = boot->boot_id, wall](db::Db& db, RuntimeStore&) { write_host_boot(db, id, wall); });
    }
  }
  if (const auto waited_s = start_.ended(loop_.clock().steady())) {
    const std::string text = fmt::format(
        "store_unread: cleared: the stored state was read after {:.0f} s in the safe state; normal control begins", *waited_s);
    log::info("{}", text);
    // The loads the safe state switched off: in the history as what they were, OFF since then.
    for (const auto& l : loop_.loads()) {
      const auto it = storage_.rows().find(l.state_key);
      if (start_.off_at() && it != storage_.rows().end() && it->second.commanded_on) {
        EventNote n = load_event("actuation", l.id, {rules::ReasonCode::none},
                                 "switched OFF at the start: the stored state was not read in time (the safe state)", wall);
        n.on = false;
        events_.add(n);
      }
    }
    events_.add(site_event("alarm_end", text, wall));
    // Relays the config defines that no profile switches were commanded OFF with the rest; they are
    // the owner's again (no resend of that OFF).
    if (mqtt_.relays()) {
      std::set<std::string> switched;
      for (const auto& l : loop_.loads()) switched.insert(l.id);
      for (const auto& id : relay_ids(config_)) {
        if (!switched.count(id)) mqtt_.relays()->release(id);
      }
    }
    loop_.stats().store_unread_s = 0;
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
bool Daemon::stored_state_taken() {
  if (start_.exit_code()) return false;
  try {
    if (const auto rc = take_store()) start_.failed(*rc);
  } catch (const std::exception& e) {
    log::error("cannot start: the stored state could not be taken: {}", e.what());
    start_.failed(kExSoftware);
  }
  if (const auto& rc = start_.exit_code()) {
    log::error("database {}: cannot start (exit {}); the relays stay OFF", config_.database_path, *rc);
    return false;
  }
  if (start_.taken()) return true;
  safe_cycle();
  return false;
}

void Daemon::safe_cycle() {
  const ReadTimes t = read_step(loop_.clock().steady());
  LoopStats& stats = loop_.stats();
  bool switched = true;
  if (mqtt_.relays() && !config_.dry_run) {
    mqtt_.relays()->take_power_news();  // every relay is held OFF here, whatever it lost
    switched = loop_.core().all_off(relay_ids(config_), t.now, *mqtt_.relays());
    if (switched) start_.all_off(t.now);
  }
  // The watchdog: the loop is alive and the site in its safe state.
  if (switched) loop_.systemd().alive();
  loop_.take_core_counts();
  stats.store_unread_s = start_.safe_cycle(t.now);
  if (start_.first_said()) {
    const std::string text = fmt::format(
        "store_unread: the database {} has not answered within {} ms of the start (a slow or failing card): {} "
        "until the stored state (profiles, loads' states and overrides) is read",
        config_.database_path, start_.wait().count(),
        config_.shadow ? "shackd decides nothing (shadow mode: it commands no relay either)" : "every relay is held OFF");
    log::warn("{}", text);
    events_.add(site_event("alarm", text, t.wall));
  }
  loop_.guarded(SideJob::poll, [&] { loop_.tell_polls(events_); });
  loop_.guarded(SideJob::events, [&] { loop_.tell_relay_alarms(mqtt_.relays(), events_); });
  // The loop's figures and the events; Home Assistant's discovery waits for the loads.
  after_cycle(t, false, true);
  loop_.said(desk_.status(), true, config_, false);
}

}  // namespace shackd
