#include "daemon/loop/daemon.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <sys/stat.h>
#include <time.h>
#include <thread>

#include "daemon/devices/registry.hpp"
#include "daemon/loop/poll_exceptions.hpp"
#include "daemon/store/load_state_rows.hpp"
#include "daemon/publish/cycle_publisher.hpp"
#include "daemon/publish/ha_discovery.hpp"
#include "daemon/vocab/publish.hpp"
#include "daemon/vocab/render.hpp"
#include "daemon/store/migrate.hpp"
#include "daemon/store/run_database.hpp"
#include "daemon/store/site_identity.hpp"
#include "daemon/system/exit_codes.hpp"
#include "daemon/system/log.hpp"
#include "daemon/system/notify.hpp"
#include "daemon/system/signals.hpp"
#include "drivers/text/utf8.hpp"
#include "rules/decide.hpp"

namespace shackd {

namespace {

std::string on_off(bool on) { return on ? "ON" : "OFF"; }

// What the start's line says of a run that commands nothing.
const char* mode_note(const Config& c) {
  return c.shadow ? " (SHADOW: switches nothing)" : c.dry_run ? " (dry run: no relay commands)" : "";
}

}  // namespace

Daemon::Daemon(RunOptions options, Seams seams)
    : options_(std::move(options)),
      seams_(std::move(seams)),
      clock_(seams_.clock ? *seams_.clock : system_clock()),
      systemd_(seams_.notify) {}

Daemon::~Daemon() = default;

std::optional<int> Daemon::start() {
  const std::int64_t run_ms = clock_.wall_ms();
  started_unix_s_ = run_ms / 1000;
  // Each event kept with this cycle's records for the recorder, and sent through the outbox.
  events_.wire(run_ms, [this](Event e) {
    storage_.records().events.push_back(std::move(e));
    ++stats_.events;
  });
  storage_.on_event_fate(events_.store_fate());  // what the store keeps or drops, by each event's seq
  const ConfigResult c = load_config(options_.config_path, seams_.kinds);
  if (!c.config) {
    log::error("{}: the config has {} error(s):", options_.config_path, c.errors.size());
    for (const auto& e : c.errors) log::error("  {}", e);
    return kExConfig;
  }
  config_ = *c.config;
  if (options_.dry_run) config_.dry_run = true;
  if (options_.shadow) config_.shadow = true;
  // Shadow mode has every guard a dry run has (no relay command, no charge limit, no miner API,
  // no power-on question), and a gate of its own on the relays' lane (make_mqtt).
  if (config_.shadow) config_.dry_run = true;
  alarms_.set_shadow(config_.shadow);
  intake_.configure(config_, fleet_site_id());
  // The site's timezone for the very first log lines, where the config gives it (the database's
  // is set once the profiles are loaded).
  if (config_.profiles && config_.profiles->IsMap() && (*config_.profiles)["site"].IsMap()) {
    const YAML::Node tz = (*config_.profiles)["site"]["timezone"];
    if (tz.IsScalar() && !tz.Scalar().empty()) {
      setenv("TZ", tz.Scalar().c_str(), 1);
      tzset();
    }
  }
  if (const auto missing = check_files(config_); !missing.empty()) {
    log::error("{}: cannot start: {} file(s) the config names are not usable:", options_.config_path, missing.size());
    for (const auto& e : missing) log::error("  {}", e);
    return kExConfig;
  }
  if (!options_.once) {
    std::string why;
    lock_ = InstanceLock::take(config_.database_path, why);
    if (!lock_) {
      log::error("cannot start: {}", why);
      return kExTempFail;
    }
  }
  // The database is opened, migrated and read on a thread of its own (daemon_open.cpp): a card
  // that takes seconds a read must not hold the devices, MQTT, the first relay command or the
  // watchdog (issue 44, item 4). `once` has no later cycle to take it in: it opens it here.
  start_.set_wait(seams_.store_wait.value_or(store_wait(config_.interval)));
  const std::int64_t open_wall_s = clock_.wall_s();
  const auto open_began = std::chrono::steady_clock::now();  // a real bound, as OneJob::settle's
  if (options_.once) {
    start_.opener().put(std::make_unique<OpenedStore>(open_store(config_, open_wall_s, false)));
    if (const auto rc = take_store()) return rc;
  } else {
    // The lock's pid is written here too, off the start's path: lock_ outlives the opener (start_
    // is the last member, joined first).
    start_.opener().start([running = config_, open_wall_s, lock = &*lock_] {
      lock->write_pid();
      return std::make_unique<OpenedStore>(open_store(running, open_wall_s, !running.dry_run));
    });
  }
  try {
    start_devices();
    if (!options_.once) start_mqtt();
    // A test's link (Seams::make_mqtt) is published to before cycle() returns, unless the test
    // asks for the thread.
    if (!options_.once && seams_.publish_thread.value_or(!seams_.make_mqtt)) publisher_.start_thread();
  } catch (const std::exception& e) {
    // Whatever the cause, one line and an exit code: never std::terminate and a restart loop.
    log::error("cannot start: {}", e.what());
    return kExUnavailable;
  }
  if (!options_.once) metrics_.start(config_.metrics, config_.interval, clock_.steady());
  if (mqtt_.present()) {
    // Give the broker a moment, so that the first decision is published, not lost; bounded,
    // since shackd controls with or without MQTT.
    const auto until = clock_.steady() + std::chrono::seconds(1);
    while (!mqtt_.connected() && clock_.steady() < until) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!options_.once) {
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - open_began);
    start_.opener().settle(std::max(std::chrono::milliseconds(0), start_.wait() - waited));
    if (const auto rc = take_store()) return rc;  // 78, 75, 65: as before, when it fails in time
  }
  // What came meanwhile (a retained override among it) against the loads, once they are known;
  // else the first cycle in the safe state takes it.
  if (mqtt_.present() && start_.taken()) handle_mqtt(clock_.steady());
  if (start_.taken()) {
    log::info("shackd {} started: {} load(s), devices: {}{}", SHACKD_VERSION, core_.site().loads.size(),
              devices::enabled_kinds(config_), mode_note(config_));
  } else {
    start_.began(clock_.steady());
    log::warn("shackd {} started in the safe state: the database has not answered within {} ms; {} until it does; "
              "devices: {}{}",
              SHACKD_VERSION, start_.wait().count(),
              config_.shadow ? "it decides nothing (and commands nothing: shadow mode)" : "every relay is held OFF",
              devices::enabled_kinds(config_), mode_note(config_));
  }
  if (config_.shadow) {
    log::warn("SHADOW MODE: shackd switches NOTHING. It decides beside the controller in place and sends no relay "
              "command or question, no Modbus write and no miner API command, and sets no relay's power-on state; "
              "the relays, the bank and every safety stop stay with whoever holds them now. Where its decisions and "
              "the relays' reported states differ it records it: table shadow_disagreements, {}/shadow/<load>",
              config_.mqtt.prefix);
  }
  for (const auto& w : config_.device_warnings) log::info("config: {}", w);
  return std::nullopt;
}

// This cycle's switches as log lines and actuation events: after the relay manager has taken the
// commands, so that no history tells of a switch that was never commanded.
void Daemon::record_switches(std::int64_t wall) {
  for (const auto& l : core_.site().loads) {
    const auto& d = decision_for(core_.decision(), l);
    if (!d.changed) continue;
    // A probe says what told it the chargers hold back: the reason's numbers are the battery's.
    const bool probe = d.reason.code == rules::ReasonCode::probing_hidden_surplus;
    if (config_.shadow) {
      // Nothing was switched: the log says what would have been, and the history keeps no actuation
      // that never happened (the spells are the shadow's record: daemon_shadow.cpp).
      log::info("{}: would switch {} (shadow: nothing switched; {}{})", l.name, on_off(d.on), rules::describe(d.reason),
                probe ? "; " + core_.snapshot().chargers_evidence : std::string());
      continue;
    }
    log::info("{}: {} ({}{})", l.name, on_off(d.on), rules::describe(d.reason), probe ? "; " + core_.snapshot().chargers_evidence : std::string());
    event("actuation", l.id, d.reason, probe ? core_.snapshot().chargers_evidence : std::string(), wall, &core_.snapshot(), d.on);
  }
}

// What the relays said since the last cycle, as log lines and events (a side job: a failure here
// never holds a relay command back).
// The loads the core took as OFF since their relay lost its power, told after the relays.
void Daemon::tell_power_lost(const std::vector<SafetyCore::PowerLost>& lost, std::int64_t wall) {
  for (const auto& p : lost) {
    const std::string text =
        config_.shadow
            ? fmt::format("its relay lost its power ({}): shackd takes it as OFF since then{}; it would start it again "
                          "only when its start rules hold (shadow: nothing switched)",
                          p.news.why, p.news.came_on ? ", and would switch it OFF now: it came back ON by itself" : "")
            : fmt::format("its relay lost its power ({}): OFF since then{}; it starts again only when its start rules hold",
                          p.news.why, p.news.came_on ? ", and switched OFF now: it came back ON by itself" : "");
    log::write(p.was_on || p.news.came_on ? log::Level::warn : log::Level::info, fmt::format("{}: {}", p.load.name, text));
    event("actuation", p.load.id, {rules::ReasonCode::none}, "power lost: " + text, wall, nullptr, false);
  }
}

void Daemon::record_relay_alarms() {
  if (!mqtt_.relays()) return;
  const auto alarms = mqtt_.relays()->take_alarms();
  // Relays that said the same are one line in the log (six at Tasmota's default opened the demo
  // with six identical warnings); each is its own event, for its entity and its history.
  for (const auto& line : alarms_.relay_lines(alarms, clock_.steady())) log::write(line.level, line.text);
  for (const auto& a : alarms) {
    // A relay that lost its power is an alarm of its own, said at warn by its load when that
    // matters (tell_power_lost).
    event(relay_alarm_bad(a) || a.code == "relay_power_lost" ? "alarm" : "alarm_end", a.relay, {rules::ReasonCode::none}, a.code + ": " + a.detail, clock_.wall_s());
  }
}

// This cycle's record, completed with what the relays, the devices and the loop said, and sealed
// (daemon/core/cycle_record.hpp): the one value the publisher, the recorder and the metrics read.
CycleRecordPtr Daemon::seal_record(rules::SteadyTime now) {
  stats_.store_queued = storage_.stats().queued;
  return core_.seal([&](CycleRecord& r) {
    r.relays = mqtt_.relays() != nullptr;
    r.relay.clear();
    if (const auto* relays = mqtt_.relays()) {
      for (const auto& l : r.site->loads) {
        if (!relays->has(l.id)) continue;
        const auto& st = relays->status(l.id);
        r.relay.emplace(l.id, RelayFacts{st.observed, relays->config(l.id), relays->power_on(l.id), st.observed_since,
                                         st.power_w, st.power_at});
      }
    }
    r.own_draw_w.clear();
    for (const auto& l : r.site->loads) {
      if (l.kind != LoadRef::Kind::miner) continue;
      if (const auto w = miners_.draw_w(l.id, now)) r.own_draw_w.emplace(l.id, *w);
    }
    r.devices.clear();
    for (const auto& w : core_.devices().devices()) r.devices.emplace_back(w->name(), device_log_.of(w->name()));
    r.loop = stats_;
  });
}

// The cycle's record and what only the publisher says beside it, for the publisher's thread: no
// JSON here (issue 44). What it needs of the miners and the host is read here, where they live.
void Daemon::publish(const CycleRecordPtr& record, bool safe_state) {
  // The controller's health found a cycle after the start (its reader's thread): Home Assistant is
  // told of its entities again.
  if (host_.take_found()) publisher_.send_everything();
  const bool everything = !safe_state && publisher_.take_everything();
  if (!mqtt_.connected()) return;
  CycleFacts f;
  f.prefix = config_.mqtt.prefix;
  f.record = record;
  f.energy_day = energy_.meter().day();
  f.energy = energy_.meter().totals();
  f.mqtt = intake_.broker().health();
  f.device_alarms = alarms_.device_alarms();
  if (host_.present()) f.host = host_.health();  // <prefix>/host's document, rendered by the publisher
  f.uplink = {config_.uplink.enabled, config_.uplink.state_interval, fleet_site_id(), config_.site_name};
  f.everything = everything;
  if (everything && config_.mqtt.discovery) {
    DiscoveryOptions& d = f.discovery.emplace();
    d = DiscoveryOptions{.prefix = config_.mqtt.prefix,
                         .discovery_prefix = config_.mqtt.discovery_prefix,
                         .node_id = "shackd_" + site_id_,
                         .site_name = config_.site_name,
                         .version = SHACKD_VERSION,
                         .expire_after_s = std::max(10, static_cast<int>(rules::to_seconds(
                                                            record->profiles().rules.site.electrical_stale_after))),
                         .devices = {},
                         .settings = intake_.offered(),
                         .miners = {}};
    for (const auto& device : record->devices) d.devices.push_back(device.first);
    const auto& hs = host_.sources();
    d.host = {.flags = !hs.throttled.empty() || !hs.volt_alarm.empty(), .temperature = !hs.soc_temp.empty(),
              .storage = !hs.emmc.empty(), .writes = !hs.proc_io.empty()};
    for (const auto& l : record->loads()) {
      const auto* miner = miners_.config(l.id);
      if (!miner) continue;
      const auto poll_s = static_cast<int>(miner->poll.count());
      d.miners.push_back({l.id, l.name, std::max(30, 3 * poll_s)});
    }
  }
  if (f.discovery) f.discovery->shadow = config_.shadow;  // its entities (issue 60)
  publisher_.post(std::move(f));
}

// What the publisher could not send, and what failed on its thread: counted, shown and, when the
// losses go on, an alarm (never silent, issue 44).
void Daemon::tell_publisher(rules::SteadyTime now, std::int64_t wall) {
  const PublisherStats st = publisher_.stats();
  if (st.lost() > stats_.publish_coalesced + stats_.publish_dropped + stats_.publishes_refused) {
    // The publisher's own bookkeeping (a view coalesced now and then on a busy machine): below a
    // warning. A minute of losses is the publish_lost alarm, which is one (issue 56).
    log::limited("publish lost", log::Level::info,
                 fmt::format("publish: {} cycle view(s) replaced by newer ones before they went out, {} message(s) "
                             "dropped, {} publish(es) refused by the link (the decisions and relays are not delayed)",
                             st.coalesced, st.messages_dropped, st.refused));
  }
  stats_.publish_coalesced = st.coalesced;
  stats_.publish_dropped = st.messages_dropped;
  stats_.publishes_refused = st.refused;  // counted once, by the publisher, where it sends
  stats_.publish_busy_s = st.busy_s;
  for (const auto& n : publisher_.watch(now)) {
    switch (n.kind) {
      case PublisherNote::Kind::failure: side_failed(SideJob::publish, n.text.c_str()); break;
      case PublisherNote::Kind::alarm:
        log::warn("{}", n.text);
        event("alarm", "", {rules::ReasonCode::none}, n.text, wall);
        break;
      case PublisherNote::Kind::alarm_end:
        log::info("{}", n.text);
        event("alarm_end", "", {rules::ReasonCode::none}, n.text, wall);
        break;
    }
  }
}

void Daemon::take_core_counts() {
  stats_.undecided = core_.counts().undecided;
  stats_.unswitched = core_.counts().unswitched;
}

std::string Daemon::status_line() const {
  const auto& b = core_.decision().battery;
  int on = 0;
  for (const auto& l : core_.site().loads) on += decision_for(core_.decision(), l).on;
  std::string devices;
  for (const auto& [name, h] : device_log_.all()) {
    devices += fmt::format(", {} {}", name, h.consecutive_failures == 0 && h.last_success ? "ok" : "DOWN");
  }
  std::string mqtt = ", mqtt ok";
  if (!mqtt_.present()) {
    mqtt.clear();
  } else if (!intake_.broker().failure().empty() || !mqtt_.connected()) {
    // How long relay commands have waited for the broker, and why (issue 56).
    const auto& since = intake_.broker().health().down_since_unix_s;
    mqtt = ", MQTT DOWN";
    if (since) mqtt += fmt::format(" for {} s", std::max<std::int64_t>(0, clock_.wall_s() - *since));
    if (!intake_.broker().failure().empty()) mqtt += ": " + intake_.broker().failure();
  }
  const std::string side = loop_status(stats_, !start_.taken());
  return fmt::format("{} ({}), {}/{} loads on{}{}{}{}",
                     b.measured_v ? fmt::format("{:.2f} V", *b.measured_v) : std::string("no voltage"),
                     b.soc_pct ? fmt::format("{:.0f} %", *b.soc_pct) : std::string("-"), on, core_.site().loads.size(), devices,
                     mqtt, config_.shadow ? ", SHADOW: switches nothing" : config_.dry_run ? ", dry run" : "", side);
}

void Daemon::side_failed(SideJob job, const char* what) noexcept {
  try {
    ++stats_.failed[static_cast<std::size_t>(job)];
    stats_.last_failure = drivers::text::clean_utf8(fmt::format("{}: {}", side_job_name(job), what), 300);
    log::limited(std::string("side job ") + side_job_name(job), log::Level::error,
                 fmt::format("{} failed, the cycle goes on: {}", side_job_name(job), drivers::text::clean_utf8(what, 300)));
  } catch (...) {
  }
}

// What the poll found, told after the ping: dropped readings, a device that stopped or started
// answering, its map's changes.
void Daemon::tell_polls() {
  for (const auto& a : device_log_.tell(core_.devices().take_news())) {
    event(a.raised ? "alarm" : "alarm_end", "", {a.raised ? rules::ReasonCode::stale_input : rules::ReasonCode::none}, a.text,
          clock_.wall_s());
  }
}

// Alarms (AlarmWatch): the rules', the devices' own (their status made here, where the devices,
// their health and the miners live) and the charge block's, as events when they appear or clear.
void Daemon::record_alarms(rules::SteadyTime now, std::int64_t wall) {
  drivers::DeviceStatus status;
  for (const auto& w : core_.devices().devices()) {
    drivers::add_device_status(status, w->name(), w->units(), core_.devices().readings(), now,
                               core_.site().mapping.fresh_within);
    drivers::add_identity_alarms(status, w->name(), device_log_.of(w->name()));  // issue 49
  }
  miners_.add_status(status, core_.site().loads, core_.state(), now);
  for (const auto& n : alarms_.tell(core_.snapshot(), core_.decision(), status)) {
    event(n.raised ? "alarm" : "alarm_end", "", n.reason, n.text, wall, n.about_cycle ? &core_.snapshot() : nullptr);
  }
}

// The read step of both cycles (this one and the safe state's, daemon_open.cpp): the devices,
// and what each miner's worker has for us (never waited for); then what came in on MQTT (relay
// states, sensors, overrides; a bounded share of the cycle).
Daemon::ReadTimes Daemon::read_step(rules::SteadyTime started) {
  guarded(SideJob::poll, [&] {
    // `once` has no later cycle: it waits for the poll itself (DevicePoll::poll).
    core_.devices().poll(started, options_.once ? std::optional(std::chrono::milliseconds(10000)) : std::nullopt);
  });
  miners_.take_reports(started, [this](const char* what) { side_failed(SideJob::poll, what); });
  ReadTimes t{clock_.steady(), clock_.wall_s()};
  guarded(SideJob::mqtt_in, [&] { t.connected = handle_mqtt(t.now); });
  return t;
}

// The safety path is read -> decide -> switch -> watchdog, and the relay commands leave first:
// nothing is logged, recorded or published before them. Everything else (the reload, MQTT's
// commands, the journal, events, energy, publishing, the store) is a side job in its own guard:
// it fails alone, is counted (<prefix>/loop, `status`, the STATUS line), and never skips the
// decision, the relays or the ping. A side job that threw once (an override whose text was not
// UTF-8) used to skip all of them, cycle after cycle (issue 27, S1); side jobs that ran between
// the decision and the relays (alarms, events, the charge block's notes) held the relays back and
// recorded switches before they were commanded (issue 44).
void Daemon::cycle() {
  // Until the stored state is taken (a slow card at the start), the safe state: every relay OFF
  // (daemon_open.cpp). Taken whole here, at the top of a cycle, once the opener has it.
  if (!start_.taken()) {
    if (start_.exit_code()) return;
    try {
      if (const auto rc = take_store()) start_.failed(*rc);
    } catch (const std::exception& e) {
      log::error("cannot start: the stored state could not be taken: {}", e.what());
      start_.failed(kExSoftware);
    }
    if (const auto& rc = start_.exit_code()) {
      log::error("database {}: cannot start (exit {}); the relays stay OFF", config_.database_path, *rc);
      return;
    }
    if (!start_.taken()) {
      safe_cycle();
      return;
    }
  }
  // A reload that finished on its thread is taken whole here; a signal starts the next.
  guarded(SideJob::reload, [&] {
    finish_reload();
    begin_reload();
  });
  // The settings from MQTT the store has taken since, in force from this cycle.
  guarded(SideJob::mqtt_in, [&] { take_settings(); });
  // 1. Read: the devices, what each miner's worker has for us; 2. what came in on MQTT.
  const ReadTimes times = read_step(clock_.steady());
  const auto now = times.now;
  const auto wall = times.wall;
  std::vector<OverrideRequest> overrides;  // taken before the rules, told after the relays
  guarded(SideJob::mqtt_in, [&] { take_overrides(overrides); });
  // The loads whose relay lost its power: OFF since then, before the rules (issue 56).
  std::vector<SafetyCore::PowerLost> lost;
  guarded(SideJob::mqtt_in, [&] {
    if (mqtt_.relays()) lost = core_.take_power_news(mqtt_.relays()->take_power_news(), now);
  });
  // The controller's own health (sysfs, /proc: no disk), read on its own interval: it may shed.
  guarded(SideJob::alarms, [&] { if (!options_.once) host_.sense(config_.host, now); });
  // 3. The snapshot, 4. the rules. The overrides in force as the rules are given them, for the
  // journal written after the relays.
  guarded(SideJob::journal, [&] { journal_.overrides(core_.site().loads, core_.state(), now, config_.journal_days != 0); });
  const bool decided = core_.decide(now, wall, [&](rules::Snapshot& snap) {
    miners_.readings(core_.site().loads, snap);
    snap.controller_overheat = host_.shedding();
  });
  // 5. Switch.
  const bool switched =
      options_.once || (decided && core_.apply(now, mqtt_.relays(), config_.dry_run,
                                                [&](const LoadRef& l, const rules::LoadDecision& d, rules::SteadyTime t) {
                                                  return miners_.relay(l.id, d, t);
                                                }));
  // The charge limits a cold battery holds at 0 A: queued to their devices' pollers (written at
  // the next poll), as an actuation; what they say is told after the ping.
  if (decided && !options_.once) {
    guarded(SideJob::charge_block, [&] { charge_block_.step(core_.decision().block_charging); });
  }
  // 6. The watchdog: only a cycle that decided and switched proves the loop alive.
  if (decided && switched) systemd_.alive();
  take_core_counts();
  // 7. What this cycle is to say and keep, after the relays.
  guarded(SideJob::poll, [&] { tell_polls(); });
  guarded(SideJob::mqtt_in, [&] { tell_overrides(overrides); });
  guarded(SideJob::events, [&] { tell_power_lost(lost, wall); });
  if (decided) {
    guarded(SideJob::journal, [&] { journal_.cycle(core_.snapshot(), clock_.wall_ms(), config_.journal_days != 0); });
    guarded(SideJob::alarms, [&] { record_alarms(now, wall); });
    guarded(SideJob::alarms, [&] {
      host_.tell([&](bool raised, const std::string& text) {
        event(raised ? "alarm" : "alarm_end", "", {rules::ReasonCode::none}, text, wall);
      });
    });
    guarded(SideJob::charge_block, [&] { tell_charge_block(wall); });
    if (!options_.once) guarded(SideJob::events, [&] { record_switches(wall); });
  }
  if (!options_.once) {
    guarded(SideJob::events, [&] { record_relay_alarms(); });
    miners_bookkeeping(now, wall);
    // The cycle's one record, read from here on by the energy meter, the publisher, the recorder
    // and the metrics, each making its own projection of it.
    CycleRecordPtr record;
    guarded(SideJob::publish, [&] { record = seal_record(now); });
    if (record) guarded(SideJob::energy, [&] { account_energy(*record, now, wall); });
    // Shadow mode (issue 60): the record's decisions against the relays' reported states.
    if (record && config_.shadow && decided) guarded(SideJob::shadow, [&] { shadow_step(*record, clock_.wall_ms()); });
    guarded(SideJob::publish, [&] {
      // A connection's events (the start's, the outage's) go before everything is published again:
      // sent here, after the relays, never in the read step (issue 57).
      if (times.connected) events_.pump();
      if (record) publish(record);
      stats_.events_unsent = events_.pump();
      tell_publisher(now, wall);
    });
    if (record) {
      guarded(SideJob::persist, [&] {
        persist(*record, now, wall);
        tell_recorder(wall);
      });
      guarded(SideJob::metrics, [&] { export_metrics(*record, now, wall); });
    }
  }
  stats_.log_lost = log::lost_lines();
  if (decided && switched && !told_first_) {
    told_first_ = true;
    log::info("first decision: {}", status_line());
  }
  systemd_.say("STATUS=" + status_line());
}

bool Daemon::settle(std::chrono::milliseconds bound) {
  return reloader_.settle(bound) && start_.opener().settle(bound) && (!storage_.recorder() || storage_.recorder()->settle(bound)) &&
         publisher_.settle(bound);
}

void Daemon::shutdown() {
  systemd_.say("STOPPING=1");
  log::info("stopping");
  const auto now = clock_.steady();
  if (mqtt_.relays() && !config_.dry_run && config_.shutdown_policy == ShutdownPolicy::miners_off) {
    for (const auto& l : core_.site().loads) {
      if (l.kind == LoadRef::Kind::miner) mqtt_.relays()->set_desired(l.id, false, now);
    }
    log::info("shutdown policy miners_off: miners switched off");
  }
  if (start_.opener().running()) {
    log::warn("database {}: still being opened (a slow card): the stop waits for it", config_.database_path);
  }
  start_.opener().join();
  reloader_.join();  // a reload under way finishes (its database work goes through the recorder)
  if (config_.shadow) guarded(SideJob::shadow, [&] { shadow_stop(); });
  if (storage_.recorder()) {
    event("lifecycle", "", {rules::ReasonCode::none}, "stopped", clock_.wall_s());
    // Its last write, the minute in progress included; bounded, within the unit's
    // TimeoutStopSec (20 s) with the broker's 2 s and the metrics' time-outs beside it: a card
    // that takes longer loses that write (SQLite rolls it back) and says so.
    storage_.stop(clock_.wall_s(), std::chrono::seconds(8));
  }
  events_.outbox().pump();  // the last events (the stop's own) while the link is there; unconfirmed ones are in the database
  events_.outbox().stop_thread();
  // Superseded states are not waited for: the will and the shutdown say offline. Bounded: a
  // publish that never returns is left behind, said in the log. The link it is inside stays alive
  // for it (the lane's reference: drivers/mqtt/lanes.hpp) and is freed when it returns; the stop
  // goes on at once (destroying the link under that thread was a use after free; leaking it on
  // purpose was the fix before issue 57).
  publisher_.stop(std::chrono::seconds(2));
  mqtt_.stop(std::chrono::milliseconds(2000));  // publishes offline itself: a clean disconnect suppresses the will
  core_.devices().set({}, std::chrono::milliseconds(0));
  miners_.clear();
  storage_.close();  // the last close checkpoints the WAL (in memory: written back at its stop)
  // Last: a scraper holding a connection delays nothing above (at most the server's time-outs).
  metrics_.stop();
}

int Daemon::run() {
  event("lifecycle", "", {rules::ReasonCode::none}, std::string("started ") + SHACKD_VERSION, clock_.wall_s());
  auto next = clock_.steady();
  while (!signals::stop && !start_.exit_code()) {
    const auto started = clock_.steady();
    try {
      cycle();
    } catch (const std::exception& e) {
      // Never let one bad cycle end the controller: the relays keep their last commanded state
      // (and their dead-man), the next cycle starts fresh from the devices.
      log::error("cycle failed, continuing: {}", e.what());
    }
    next += config_.interval;
    const auto now = clock_.steady();
    const double took_ms = std::chrono::duration<double, std::milli>(now - started).count();
    ++stats_.cycles;
    stats_.last_ms = took_ms;
    stats_.longest_ms = std::max(stats_.longest_ms, took_ms);
    if (next < now) {
      // A long cycle: start the next at once, without a burst. Ticks passed by more than half an
      // interval count as missed (a stalled machine counts too: this is wall-to-wall monotonic).
      const auto late = now - next;
      const auto missed = (late + config_.interval / 2) / config_.interval;
      if (missed > 0) {
        stats_.missed += static_cast<std::uint64_t>(missed);
        log::warn("cycle took {:.0f} ms: {} tick(s) of {} ms missed", took_ms, missed, config_.interval.count());
      }
      next = now;
    }
    // One sleep to the next tick. A signal interrupts it (the handlers are installed without
    // SA_RESTART), so SIGTERM acts at once; waking every few ms would cost CPU. SIGHUP waits for
    // the next tick: the reload runs at the top of the cycle, so a storm of them costs one
    // reload per cycle and never an extra poll.
    while (!signals::stop && clock_.steady() < next) {
      const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(next - clock_.steady());
      if (left.count() <= 0) break;
      timespec ts{static_cast<std::time_t>(left.count() / 1000000000), static_cast<long>(left.count() % 1000000000)};
      nanosleep(&ts, nullptr);
    }
  }
  log::info("loop: {} cycles, {} missed, longest {:.1f} ms, {} events, {} store errors", stats_.cycles, stats_.missed,
            stats_.longest_ms, stats_.events, stats_.store_errors);
  shutdown();
  return start_.exit_code().value_or(kExOk);
}

}  // namespace shackd
