#include "daemon/loop/daemon.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <time.h>
#include <thread>

#include "daemon/devices/registry.hpp"
#include "daemon/loop/cycle_outputs.hpp"
#include "daemon/loop/site_parts.hpp"
#include "daemon/publish/publisher_report.hpp"
#include "daemon/system/exit_codes.hpp"
#include "daemon/system/log.hpp"
#include "daemon/system/signals.hpp"

namespace shackd {

namespace {

// What the start's line says of a run that commands nothing.
const char* mode_note(const Config& c) {
  return c.shadow ? " (SHADOW: switches nothing)" : c.dry_run ? " (dry run: no relay commands)" : "";
}

}  // namespace

Daemon::Daemon(RunOptions options, Seams seams)
    : options_(std::move(options)),
      seams_(std::move(seams)),
      loop_(seams_.clock ? *seams_.clock : system_clock(), seams_.notify),
      desk_({loop_, mqtt_, publisher_, shadow_, storage_, events_, config_, loop_.clock()}) {}

Daemon::~Daemon() = default;

std::optional<int> Daemon::start() {
  const std::int64_t run_ms = loop_.clock().wall_ms();
  start_.started_at(run_ms / 1000);
  // Each event kept with this cycle's records for the recorder, and sent through the outbox.
  events_.wire(
      run_ms,
      [this](Event e) {
        storage_.records().events.push_back(std::move(e));
        ++loop_.stats().events;
      },
      [this](const char* what) { side_failed(loop_.stats(), SideJob::events, what); });
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
  // no power-on question), and a gate of its own on the relays' lane (make_mqtt_side, loop/site_parts.cpp).
  if (config_.shadow) config_.dry_run = true;
  loop_.alarms().set_shadow(config_.shadow);
  configure_names();
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
    if (!storage_.lock(config_.database_path, why)) {
      log::error("cannot start: {}", why);
      return kExTempFail;
    }
  }
  // The database is opened, migrated and read on a thread of its own (daemon_open.cpp): a card
  // that takes seconds a read must not hold the devices, MQTT, the first relay command or the
  // watchdog (issue 44, item 4). `once` has no later cycle to take it in: it opens it here.
  start_.set_wait(seams_.store_wait.value_or(store_wait(config_.interval)));
  const std::int64_t open_wall_s = loop_.clock().wall_s();
  const auto open_began = std::chrono::steady_clock::now();  // a real bound, as OneJob::settle's
  if (options_.once) {
    start_.opener().put(std::make_unique<OpenedStore>(open_store(config_, open_wall_s, false)));
    if (const auto rc = take_store()) return rc;
  } else {
    // The lock's pid is written here too, off the start's path: the lock (storage_'s) outlives the
    // opener (start_ is the last member, joined first).
    start_.opener().start([running = config_, open_wall_s, lock = storage_.held_lock()] {
      lock->write_pid();
      return std::make_unique<OpenedStore>(open_store(running, open_wall_s, !running.dry_run));
    });
  }
  try {
    // The devices; a miner's API only where its relay is commanded (not `once`, not a dry run).
    loop_.core().devices().set({}, std::chrono::milliseconds(0));
    loop_.core().devices().set(make_workers(config_, seams_), devices::longest_timeout(config_));
    loop_.charge_block().clear();  // built when the stored state is taken: its rows are the database's
    if (options_.once || config_.dry_run) miners_.clear();
    else miners_.start(config_.miners, seams_.make_miner, [this](const std::string& id) { return miner_rating_w(loop_.profiles(), id); });
    if (!options_.once) {
      // The bulk lane (drivers/mqtt/lanes.hpp) routes to the link in force: a reload changes nothing here.
      events_.outbox().set_lane(mqtt_.bulk_lane());
      publisher_.set_lane(mqtt_.bulk_lane());
      mqtt_.take(make_mqtt_side(config_, seams_, mqtt_.relay_lane()));
      // Paced by the broker's acknowledgements between cycles too; a test's in-process link is
      // pumped by the cycle alone, unless it asks (Seams::events_thread).
      if (seams_.events_thread.value_or(!seams_.make_mqtt)) events_.outbox().start_thread();
    }
    // A test's link (Seams::make_mqtt) is published to before cycle() returns, unless the test
    // asks for the thread.
    if (!options_.once && seams_.publish_thread.value_or(!seams_.make_mqtt)) publisher_.start_thread();
  } catch (const std::exception& e) {
    // Whatever the cause, one line and an exit code: never std::terminate and a restart loop.
    log::error("cannot start: {}", e.what());
    return kExUnavailable;
  }
  if (!options_.once) metrics_.start(config_.metrics, config_.interval, loop_.clock().steady());
  if (mqtt_.present()) {
    // Give the broker a moment, so that the first decision is published, not lost; bounded,
    // since shackd controls with or without MQTT.
    const auto until = loop_.clock().steady() + std::chrono::seconds(1);
    while (!mqtt_.connected() && loop_.clock().steady() < until) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!options_.once) {
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - open_began);
    start_.opener().settle(std::max(std::chrono::milliseconds(0), start_.wait() - waited));
    if (const auto rc = take_store()) return rc;  // 78, 75, 65: as before, when it fails in time
  }
  // What came meanwhile (a retained override among it) against the loads, once they are known;
  // else the first cycle in the safe state takes it.
  if (mqtt_.present() && start_.taken()) desk_.take(loop_.clock().steady());
  if (start_.taken()) {
    log::info("shackd {} started: {} load(s), devices: {}{}", SHACKD_VERSION, loop_.core().site().loads.size(),
              devices::enabled_kinds(config_), mode_note(config_));
  } else {
    start_.began(loop_.clock().steady());
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
// What the components see of the site's names, and where events go: at the start, when the
// stored state gives the site's id, and at a reload.
void Daemon::configure_names() {
  desk_.intake().configure(config_, fleet_site_id());  // the uplink's bridge is named by the site's id
  events_.route_to(config_.mqtt.prefix, config_.uplink.enabled, fleet_site_id());
}

void Daemon::listen_for_sensors(std::chrono::milliseconds bound) {
  for (const auto& [name, value] : shackd::listen_for_sensors(config_.mqtt, config_.sensors, bound, loop_.clock())) {
    loop_.core().devices().set_reading(name, value, loop_.clock().steady());
  }
}

// The read step of both cycles (this one and the safe state's, daemon_open.cpp): the devices,
// and what each miner's worker has for us (never waited for); then what came in on MQTT (relay
// states, sensors, overrides; a bounded share of the cycle).
Daemon::ReadTimes Daemon::read_step(rules::SteadyTime started) {
  loop_.guarded(SideJob::poll, [&] {
    // `once` has no later cycle: it waits for the poll itself (DevicePoll::poll).
    loop_.core().devices().poll(started, options_.once ? std::optional(std::chrono::milliseconds(10000)) : std::nullopt);
  });
  miners_.take_reports(started, [this](const char* what) { side_failed(loop_.stats(), SideJob::poll, what); });
  ReadTimes t{loop_.clock().steady(), loop_.clock().wall_s()};
  loop_.guarded(SideJob::mqtt_in, [&] { t.connected = desk_.take(t.now); });
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
  if (!start_.taken() && !stored_state_taken()) return;  // the safe state's cycle ran, or none may
  // A reload that finished on its thread is taken whole here; a signal starts the next. Then the
  // settings from MQTT the store has taken since, in force from this cycle.
  loop_.guarded(SideJob::reload, [&] {
    finish_reload();
    begin_reload();
  });
  loop_.guarded(SideJob::mqtt_in, [&] { desk_.take_settings(); });
  // 1. Read: the devices, the miners' reports, what came in on MQTT; then the overrides and each
  // relay's lost power into the core, and the controller's health (read on its own interval).
  const ReadTimes t = read_step(loop_.clock().steady());
  const MqttDesk::BeforeRules before = desk_.before_rules(t.now);
  loop_.guarded(SideJob::alarms, [&] { if (!options_.once) host_.sense(config_.host, t.now); });
  const bool journal = config_.journal_days != 0;  // the overrides in force as the rules are given them
  loop_.guarded(SideJob::journal, [&] { storage_.journal().overrides(loop_.loads(), loop_.core().state(), t.now, journal); });
  // 2. Decide, switch, ping (SafetyLoop::step).
  const SafetyLoop::Step step = loop_.step(t.now, t.wall, {miners_, host_, mqtt_.relays(), config_.dry_run, options_.once});
  // 3. What this cycle is to say and keep, after the relays.
  if (step.decided) loop_.guarded(SideJob::journal, [&] { storage_.journal().cycle(loop_.snapshot(), loop_.clock().wall_ms(), journal); });
  loop_.tell({before.overrides, before.lost, step.decided, miners_, host_, mqtt_.relays(), config_, options_.once}, t.now,
             t.wall, events_);
  if (!options_.once) after_cycle(t, step.decided, false);
  loop_.said(desk_.status(), false, config_, step.decided && step.switched);
}

// The components after the relays, in a fixed order, each in its own guard and each reading the
// cycle's one record: the miners' bookkeeping, the energy meter, the shadow, the publisher, the
// recorder, the metrics. `safe_state`: before the stored state is taken (daemon_open.cpp): the
// loop's figures and the events only, the records held for the recorder.
void Daemon::after_cycle(const ReadTimes& t, bool decided, bool safe_state) {
  LoopStats& stats = loop_.stats();
  if (!safe_state) {
    miners_.after_cycle(loop_.loads(), loop_.decision(), loop_.snapshot(), t.now, t.wall, events_,
                        [this](const std::string& id, MinerStateFacts f) {
                          publisher_.send_miner(config_.mqtt.prefix + "/load/" + id + "/miner", std::move(f));
                        },
                        stats);
  }
  CycleRecordPtr record;  // none decided yet in the safe state: an empty one with this cycle's figures
  loop_.guarded(SideJob::publish, [&] { record = loop_.seal(mqtt_.relays(), miners_, storage_.stats().queued, t.now); });
  const bool whole = record && !safe_state;
  if (whole) loop_.guarded(SideJob::energy, [&] { storage_.count_energy(*record, t.now, t.wall); });
  if (whole && config_.shadow && decided) {
    loop_.guarded(SideJob::shadow, [&] {
      shadow_.after_cycle(*record, loop_.clock().wall_ms(),
                          {publisher_, storage_.recorder(), config_.mqtt.prefix, loop_.clock().wall_s()});
    });
  }
  const CycleBeside beside{config_, start_.site_id(), fleet_site_id(), start_.started_unix_s(), mqtt_, desk_.intake(),
                           loop_.alarms(), host_, miners_, storage_.energy(), stats};
  loop_.guarded(SideJob::publish, [&] {
    // A connection's events (the start's, the outage's) go before everything is published again:
    // sent here, after the relays, never in the read step (issue 57).
    if (t.connected) events_.pump();
    if (record) publish_cycle(publisher_, record, safe_state, beside);
    stats.events_unsent = events_.pump();
    report_publisher(publisher_, stats, events_, t.now, t.wall);
  });
  loop_.guarded(SideJob::persist, [&] {
    if (safe_state) {
      storage_.hold(stats);  // bounded as the recorder's own queue is: the oldest go first, counted
    } else if (record) {
      storage_.after_cycle(*record, loop_.core().state(), t.now, t.wall);
      storage_.report(stats, events_, t.wall);
    } else {
      return;
    }
    events_.report(stats, loop_.clock().steady(), t.wall);
  });
  if (record) loop_.guarded(SideJob::metrics, [&] { export_metrics(metrics_, *record, t.now, t.wall, beside); });
}

bool Daemon::settle(std::chrono::milliseconds bound) {
  return reloader_.settle(bound) && start_.opener().settle(bound) && (!storage_.recorder() || storage_.recorder()->settle(bound)) &&
         publisher_.settle(bound);
}

void Daemon::shutdown() {
  loop_.systemd().say("STOPPING=1");
  log::info("stopping");
  const auto now = loop_.clock().steady();
  if (mqtt_.relays() && !config_.dry_run && config_.shutdown_policy == ShutdownPolicy::miners_off) {
    for (const auto& l : loop_.core().site().loads) {
      if (l.kind == LoadRef::Kind::miner) mqtt_.relays()->set_desired(l.id, false, now);
    }
    log::info("shutdown policy miners_off: miners switched off");
  }
  if (start_.opener().running()) {
    log::warn("database {}: still being opened (a slow card): the stop waits for it", config_.database_path);
  }
  start_.opener().join();
  reloader_.join();  // a reload under way finishes (its database work goes through the recorder)
  if (config_.shadow) {
    loop_.guarded(SideJob::shadow, [&] {
      // Home Assistant's shadow entities go with it (discovery only).
      const std::string node =
          config_.mqtt.discovery ? config_.mqtt.discovery_prefix + "/binary_sensor/shackd_" + start_.site_id() + "/" : std::string();
      shadow_.stop(loop_.clock().wall_ms(), loop_.loads(), node,
                   {publisher_, storage_.recorder(), config_.mqtt.prefix, loop_.clock().wall_s()});
    });
  }
  if (storage_.recorder()) {
    events_.add(site_event("lifecycle", "stopped", loop_.clock().wall_s()));
    // Its last write, the minute in progress included; bounded, within the unit's
    // TimeoutStopSec (20 s) with the broker's 2 s and the metrics' time-outs beside it: a card
    // that takes longer loses that write (SQLite rolls it back) and says so.
    storage_.stop(loop_.clock().wall_s(), std::chrono::seconds(8));
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
  loop_.core().devices().set({}, std::chrono::milliseconds(0));
  miners_.clear();
  storage_.close();  // the last close checkpoints the WAL (in memory: written back at its stop)
  // Last: a scraper holding a connection delays nothing above (at most the server's time-outs).
  metrics_.stop();
}

int Daemon::run() {
  events_.add(site_event("lifecycle", std::string("started ") + SHACKD_VERSION, loop_.clock().wall_s()));
  LoopStats& stats = loop_.stats();
  auto next = loop_.clock().steady();
  while (!signals::stop && !start_.exit_code()) {
    const auto started = loop_.clock().steady();
    try {
      cycle();
    } catch (const std::exception& e) {
      // Never let one bad cycle end the controller: the relays keep their last commanded state
      // (and their dead-man), the next cycle starts fresh from the devices.
      log::error("cycle failed, continuing: {}", e.what());
    }
    next += config_.interval;
    const auto now = loop_.clock().steady();
    const double took_ms = std::chrono::duration<double, std::milli>(now - started).count();
    ++stats.cycles;
    stats.last_ms = took_ms;
    stats.longest_ms = std::max(stats.longest_ms, took_ms);
    if (next < now) {
      // A long cycle: start the next at once, without a burst. Ticks passed by more than half an
      // interval count as missed (a stalled machine counts too: this is wall-to-wall monotonic).
      const auto late = now - next;
      const auto missed = (late + config_.interval / 2) / config_.interval;
      if (missed > 0) {
        stats.missed += static_cast<std::uint64_t>(missed);
        log::warn("cycle took {:.0f} ms: {} tick(s) of {} ms missed", took_ms, missed, config_.interval.count());
      }
      next = now;
    }
    // One sleep to the next tick. A signal interrupts it (the handlers are installed without
    // SA_RESTART), so SIGTERM acts at once; waking every few ms would cost CPU. SIGHUP waits for
    // the next tick: the reload runs at the top of the cycle, so a storm of them costs one
    // reload per cycle and never an extra poll.
    while (!signals::stop && loop_.clock().steady() < next) {
      const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(next - loop_.clock().steady());
      if (left.count() <= 0) break;
      timespec ts{static_cast<std::time_t>(left.count() / 1000000000), static_cast<long>(left.count() % 1000000000)};
      nanosleep(&ts, nullptr);
    }
  }
  log::info("loop: {} cycles, {} missed, longest {:.1f} ms, {} events, {} store errors", stats.cycles, stats.missed,
            stats.longest_ms, stats.events, stats.store_errors);
  shutdown();
  return start_.exit_code().value_or(kExOk);
}

}  // namespace shackd
