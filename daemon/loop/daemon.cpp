// The daemon's cycle and run (issue 57 item 4): the safety loop's step, then each component after
// the relays in a fixed order, each in its own guard; the run's cadence; the stop.
#include "daemon/loop/daemon.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <string>
#include <time.h>
#include <vector>

#include "daemon/loop/cycle_outputs.hpp"
#include "daemon/publish/publisher_report.hpp"
#include "daemon/system/exit_codes.hpp"
#include "daemon/system/log.hpp"
#include "daemon/system/signals.hpp"
#include "drivers/thread/deadline.hpp"

namespace shackd {

namespace {

// The whole stop's deadline (issue 57: components with one face, `stop(deadline)`): systemd's
// TimeoutStopSec=20s (systemd/shackd.service), past which it sends SIGKILL, less 2 s for what
// follows the components (the destructors, the process's exit). Each component gets what is left,
// capped by its own bound: the recorder's last write 8 s, the publisher's 2 s, the link's 2 s.
constexpr std::chrono::milliseconds kStopDeadline{18000};

// The stop's one line at its end: in time, or each late component's loss and then their names.
void say_stopped(const std::vector<drivers::thread::Stopped>& stops, std::chrono::milliseconds took) {
  std::string late;
  for (const auto& s : stops) {
    if (s.in_time) continue;
    log::warn("stop: {}: {}", s.component, s.left_behind);
    late += (late.empty() ? "" : ", ") + s.component;
  }
  if (late.empty()) {
    log::info("stopped in {} ms (the stop's deadline: {} s)", took.count(), kStopDeadline.count() / 1000);
  } else {
    log::warn("stopped in {} ms, leaving behind: {}", took.count(), late);
  }
}

// A job that shares the daemon (the opener, the reloader), waited for whatever the deadline: said
// when it ended past it.
template <typename Job>
void join_shared(Job& job, const drivers::thread::Deadline& deadline, const char* what) {
  const bool running = job.running();
  job.join();
  if (running && deadline.passed()) {
    log::warn("stop: {} ended past the stop's deadline ({} s): waited for, as it shares the daemon", what,
              kStopDeadline.count() / 1000);
  }
}

}  // namespace

// The read step of both cycles (this one and the safe state's, daemon_open.cpp): the devices,
// and what each miner's worker has for us (never waited for); then what came in on MQTT (relay
// states, sensors, overrides; a bounded share of the cycle).
Daemon::ReadTimes Daemon::read_step(rules::SteadyTime started) {
  loop_.guarded(SideJob::poll, [&] {
    // `once` has no later cycle: it waits for the poll itself (DevicePoll::poll).
    loop_.core().devices().poll(started, options_.once ? std::optional(std::chrono::milliseconds(10000)) : std::nullopt);
  });
  loop_.miners().take_reports(started, [this](const char* what) { side_failed(loop_.stats(), SideJob::poll, what); });
  ReadTimes t{loop_.times()};
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
  // relay's lost power into the core.
  const ReadTimes t = read_step(loop_.clock().steady());
  const MqttDesk::BeforeRules before = desk_.before_rules(t.now);
  const bool journal = config_.journal_days != 0;  // the overrides in force as the rules are given them
  loop_.guarded(SideJob::journal, [&] { storage_.journal().overrides(loop_.loads(), loop_.core().state(), t.now, journal); });
  // 2. The controller's heat, decide, switch, ping (SafetyLoop::step).
  const SafetyLoop::Step step =
      loop_.step(t.now, t.wall, {config_.host, mqtt_.relays(), config_.dry_run, options_.once});
  // 3. What this cycle is to say and keep, after the relays.
  if (step.decided) loop_.guarded(SideJob::journal, [&] { storage_.journal().cycle(loop_.snapshot(), t.wall_ms, journal); });
  loop_.tell({before.overrides, before.lost, step.decided, mqtt_.relays(), config_, options_.once}, t.now,
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
    loop_.miners().after_cycle(loop_.loads(), loop_.decision(), loop_.snapshot(), t.now, t.wall, events_,
                               [this](const std::string& id, MinerStateFacts f) {
                                 publisher_.send_miner(config_.mqtt.prefix + "/load/" + id + "/miner", std::move(f));
                               },
                               stats);
  }
  CycleRecordPtr record;  // none decided yet in the safe state: an empty one with this cycle's figures
  loop_.guarded(SideJob::publish, [&] { record = loop_.seal(mqtt_.relays(), storage_.stats().queued, t.now); });
  const bool whole = record && !safe_state;
  if (whole) loop_.guarded(SideJob::energy, [&] { storage_.count_energy(*record, t.now, t.wall); });
  if (whole && decided && shadow_.active(config_.shadow)) {
    loop_.guarded(SideJob::shadow, [&] {
      shadow_.after_cycle(*record, t.wall_ms, config_.shadow,
                          ShadowSide::out_to(publisher_, storage_.recorder(), config_, loop_.clock().wall_s(),
                                             start_.site_id()));
    });
  }
  const CycleBeside beside{config_, start_.site_id(), start_.fleet_site_id(config_.site_id),
                           start_.started_unix_s(), mqtt_, desk_.intake(), loop_.alarms(), loop_.host(), loop_.miners(),
                           storage_.energy(), stats};
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
  const auto deadline = drivers::thread::Deadline::after(kStopDeadline);
  const auto began = deadline.now();
  std::vector<drivers::thread::Stopped> stops;
  loop_.systemd().say("STOPPING=1");
  log::info("stopping");
  const auto now = loop_.clock().steady();
  if (mqtt_.relays() && !config_.dry_run && config_.shutdown_policy == ShutdownPolicy::miners_off) {
    for (const auto& l : loop_.core().site().loads) {
      if (l.kind == LoadRef::Kind::miner) mqtt_.relays()->set_desired(l.id, false, now);
    }
    log::info("shutdown policy miners_off: miners switched off");
  }
  // The opener and a reload under way share the daemon (its database, its links): never left
  // behind, waited for whatever the deadline; the log says when they took it past. A reload under
  // way finishes (its database work goes through the recorder).
  if (start_.opener().running()) {
    log::warn("database {}: still being opened (a slow card): the stop waits for it", config_.database_path);
  }
  join_shared(start_.opener(), deadline, "the database's opening");
  join_shared(reloader_, deadline, "the reload under way");
  if (shadow_.active(config_.shadow)) {
    loop_.guarded(SideJob::shadow, [&] {
      // Home Assistant's shadow and candidate entities go with them (discovery only).
      shadow_.stop(loop_.clock().wall_ms(), config_.shadow, loop_.loads(),
                   ShadowSide::out_to(publisher_, storage_.recorder(), config_, loop_.clock().wall_s(),
                                      start_.site_id()));
    });
  }
  if (storage_.recorder()) {
    events_.add(site_event("lifecycle", "stopped", loop_.clock().wall_s()));
    // Its last write, the minute in progress included; bounded by 8 s within the stop's deadline
    // (the unit's TimeoutStopSec, 20 s, with the broker's 2 s and the metrics' time-outs beside
    // it): a card that takes longer loses that write (SQLite rolls it back) and says so.
    stops.push_back(storage_.stop(loop_.clock().wall_s(), deadline));
  }
  // The last events (the stop's own) while the link is there; unconfirmed ones are in the database.
  stops.push_back(events_.outbox().stop(deadline));
  // Superseded states are not waited for: the will and the shutdown say offline. Bounded: a
  // publish that never returns is left behind, said in the log. The link it is inside stays alive
  // for it (the lane's reference: drivers/mqtt/lanes.hpp) and is freed when it returns; the stop
  // goes on at once (destroying the link under that thread was a use after free; leaking it on
  // purpose was the fix before issue 57).
  stops.push_back(publisher_.stop(deadline));
  stops.push_back(mqtt_.stop(deadline));  // publishes offline itself: a clean disconnect suppresses the will
  loop_.core().devices().set({}, std::chrono::milliseconds(0));
  loop_.miners().clear();
  storage_.close();  // the last close checkpoints the WAL (in memory: written back at its stop)
  // Last: a scraper holding a connection delays nothing above (at most the server's time-outs, and
  // never past the stop's deadline: then its endpoint is left behind).
  stops.push_back(metrics_.stop(deadline));
  say_stopped(stops, std::chrono::duration_cast<std::chrono::milliseconds>(deadline.now() - began));
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
