#include "daemon/loop/safety_loop.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "daemon/devices/registry.hpp"
#include "daemon/host/host_watch.hpp"
#include "daemon/miners/fleet.hpp"
#include "daemon/recorder/store_side.hpp"
#include "daemon/site/loads.hpp"
#include "daemon/system/log.hpp"
#include "drivers/device_status.hpp"
#include "rules/reason.hpp"

namespace shackd {

namespace {

std::string on_off(bool on) { return on ? "ON" : "OFF"; }

}  // namespace

SafetyLoop::Step SafetyLoop::step(rules::SteadyTime now, std::int64_t wall_s, const Parts& p) {
  Step s;
  // The controller's health, read on its own interval (HostWatch: never waited for here).
  if (!p.once) guarded(SideJob::alarms, [&] { host_.sense(p.host, now); });
  // The snapshot (with the miners' own readings and the controller's heat), then the rules.
  s.decided = core_.decide(now, wall_s, [&](rules::Snapshot& snap) {
    miners_.readings(core_.site().loads, snap);
    snap.controller_overheat = host_.shedding();
  });
  // Switch: the relay commands leave first.
  s.switched = p.once || (s.decided && core_.apply(now, p.relays, p.dry_run,
                                                   [&](const LoadRef& l, const rules::LoadDecision& d, rules::SteadyTime t) {
                                                     return miners_.relay(l.id, d, t);
                                                   }));
  // The charge limits a cold battery holds at 0 A: queued to their devices' pollers (written at
  // the next poll), as an actuation; what they say is told after the ping.
  if (s.decided && !p.once) guarded(SideJob::charge_block, [&] { charge_block_.step(core_.decision().block_charging); });
  // The watchdog: only a cycle that decided and switched proves the loop alive.
  if (s.decided && s.switched) systemd_.alive();
  take_core_counts();
  return s;
}

// The rules' time in whole milliseconds, as the cycle journal keeps it (store/cycle_journal.cpp):
// `replay`, and a candidate profile compared with it, then measure every delay as the live cycle
// did. With nanoseconds a 1 s start delay measured 999.8 ms live and 1000 ms in the journal, and
// the replay started the load a cycle earlier.
SafetyLoop::Times SafetyLoop::times() const {
  const auto steady = clock_.steady();
  const std::int64_t wall_ms = clock_.wall_ms();
  return {rules::SteadyTime(std::chrono::floor<std::chrono::milliseconds>(steady.time_since_epoch())), wall_ms / 1000,
          wall_ms};  // wall_s() as the clock says it
}

CycleRecordPtr SafetyLoop::seal(const drivers::mqtt::RelayManager* relays, std::size_t store_queued, rules::SteadyTime now) {
  stats_.store_queued = store_queued;
  return core_.seal([&](CycleRecord& r) {
    r.relays = relays != nullptr;
    r.relay.clear();
    if (relays) {
      for (const auto& l : r.site->loads) {
        if (!relays->has(l.id)) continue;
        const auto& st = relays->status(l.id);
        r.relay.emplace(l.id, RelayFacts{st.observed, relays->shared_config(l.id), relays->power_on(l.id), st.observed_since,
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

void SafetyLoop::tell(const Told& t, rules::SteadyTime now, std::int64_t wall_s, Events& events) {
  guarded(SideJob::poll, [&] { tell_polls(events); });
  guarded(SideJob::mqtt_in, [&] { tell_overrides(t.overrides, events); });
  guarded(SideJob::events, [&] { tell_power_lost(t.lost, t.config.shadow, wall_s, events); });
  if (t.decided) {
    guarded(SideJob::alarms, [&] { tell_alarms(now, wall_s, events); });
    guarded(SideJob::alarms, [&] {
      host_.tell([&](bool raised, const std::string& text) { events.add(site_event(alarm_kind(raised), text, wall_s)); });
    });
    guarded(SideJob::charge_block, [&] { tell_charge_block(wall_s, events); });
    if (!t.once) guarded(SideJob::events, [&] { tell_switches(t.config.shadow, wall_s, events); });
  }
  if (!t.once) guarded(SideJob::events, [&] { tell_relay_alarms(t.relays, events); });
}

// What the poll found, told after the ping: dropped readings, a device that stopped or started
// answering, its map's changes.
void SafetyLoop::tell_polls(Events& events) {
  for (const auto& a : device_log_.tell(core_.devices().take_news())) {
    events.add(site_event(alarm_kind(a.raised), a.text, clock_.wall_s(),
                          {a.raised ? rules::ReasonCode::stale_input : rules::ReasonCode::none}));
  }
}

// What the core took before the rules, told after the relays.
void SafetyLoop::tell_overrides(const std::vector<OverrideRequest>& taken, Events& events) {
  for (const auto& r : taken) {
    log::info("{}: override {}", r.load_name, r.said);
    events.add(load_event("override", r.load_id,
                          {r.value.mode == rules::OverrideMode::on    ? rules::ReasonCode::override_on
                           : r.value.mode == rules::OverrideMode::off ? rules::ReasonCode::override_off
                                                                      : rules::ReasonCode::none},
                          "mode set to " + r.said, clock_.wall_s()));
  }
}

// The loads the core took as OFF since their relay lost its power, told after the relays.
void SafetyLoop::tell_power_lost(const std::vector<SafetyCore::PowerLost>& lost, bool shadow, std::int64_t wall_s,
                                 Events& events) {
  for (const auto& p : lost) {
    const std::string text =
        shadow
            ? fmt::format("its relay lost its power ({}): shackd takes it as OFF since then{}; it would start it again "
                          "only when its start rules hold (shadow: nothing switched)",
                          p.news.why, p.news.came_on ? ", and would switch it OFF now: it came back ON by itself" : "")
            : fmt::format("its relay lost its power ({}): OFF since then{}; it starts again only when its start rules hold",
                          p.news.why, p.news.came_on ? ", and switched OFF now: it came back ON by itself" : "");
    log::write(p.was_on || p.news.came_on ? log::Level::warn : log::Level::info, fmt::format("{}: {}", p.load.name, text));
    EventNote n = load_event("actuation", p.load.id, {rules::ReasonCode::none}, "power lost: " + text, wall_s);
    n.on = false;
    events.add(n);
  }
}

// Alarms (AlarmWatch): the rules', the devices' own (their status made here, where the devices,
// their health and the miners are known) and the charge block's, as events when they appear or clear.
void SafetyLoop::tell_alarms(rules::SteadyTime now, std::int64_t wall_s, Events& events) {
  drivers::DeviceStatus status;
  for (const auto& w : core_.devices().devices()) {
    drivers::add_device_status(status, w->name(), w->units(), core_.devices().readings(), now,
                               core_.site().mapping.fresh_within);
    drivers::add_identity_alarms(status, w->name(), device_log_.of(w->name()));  // issue 49
  }
  miners_.add_status(status, core_.site().loads, core_.state(), now);
  for (const auto& n : alarms_.tell(core_.snapshot(), core_.decision(), status)) {
    const EventNote e = site_event(alarm_kind(n.raised), n.text, wall_s, n.reason);
    events.add(n.about_cycle ? about_cycle(e, core_.snapshot(), core_.decision()) : e);
  }
}

// What the charge limits said when step() stepped them: told after the ping.
void SafetyLoop::tell_charge_block(std::int64_t wall_s, Events& events) {
  const auto& d = core_.decision();
  for (const auto& [label, n] : charge_block_.take_notes()) {
    if (n.failure) log::warn("{}: the write failed, retrying each cycle: {}", label, n.text);
    else log::write(d.block_charging ? log::Level::warn : log::Level::info, fmt::format("{}: {}", label, n.text));
    events.add(site_event(n.failure || d.block_charging ? "alarm" : "alarm_end", n.text, wall_s,
                          n.failure ? rules::Reason{rules::ReasonCode::none} : d.charge_reason));
  }
}

// This cycle's switches as log lines and actuation events: after the relay manager has taken the
// commands, so that no history tells of a switch that was never commanded.
void SafetyLoop::tell_switches(bool shadow, std::int64_t wall_s, Events& events) {
  const auto& snap = core_.snapshot();
  for (const auto& l : core_.site().loads) {
    const auto& d = decision_for(core_.decision(), l);
    if (!d.changed) continue;
    // A probe says what told it the chargers hold back: the reason's numbers are the battery's.
    const bool probe = d.reason.code == rules::ReasonCode::probing_hidden_surplus;
    if (shadow) {
      // Nothing was switched: the log says what would have been, and the history keeps no actuation
      // that never happened (the spells are the shadow's record: loop/shadow_side.cpp).
      log::info("{}: would switch {} (shadow: nothing switched; {}{})", l.name, on_off(d.on), rules::describe(d.reason),
                probe ? "; " + snap.chargers_evidence : std::string());
      continue;
    }
    log::info("{}: {} ({}{})", l.name, on_off(d.on), rules::describe(d.reason), probe ? "; " + snap.chargers_evidence : std::string());
    EventNote n = about_cycle(load_event("actuation", l.id, d.reason, probe ? snap.chargers_evidence : std::string(), wall_s),
                              snap, core_.decision());
    n.on = d.on;
    events.add(n);
  }
}

void SafetyLoop::tell_relay_alarms(drivers::mqtt::RelayManager* relays, Events& events) {
  if (!relays) return;
  const auto alarms = relays->take_alarms();
  // Relays that said the same are one line in the log (six at Tasmota's default opened the demo
  // with six identical warnings); each is its own event, for its entity and its history.
  for (const auto& line : alarms_.relay_lines(alarms, clock_.steady())) log::write(line.level, line.text);
  for (const auto& a : alarms) {
    // A relay that lost its power is an alarm of its own, said at warn by its load when that
    // matters (tell_power_lost).
    events.add(load_event(relay_alarm_bad(a) || a.code == "relay_power_lost" ? "alarm" : "alarm_end", a.relay,
                          {rules::ReasonCode::none}, a.code + ": " + a.detail, clock_.wall_s()));
  }
}

void SafetyLoop::build_charge_limits(const Config& config, bool once, std::map<std::string, ChargeLimitRow> rows,
                                     StoreSide& storage) {
  charge_block_.clear();
  if (config.dry_run || once) return;
  const auto writer = [&](const std::string& name) -> RegisterSwapper* {
    for (auto& w : core_.devices().devices()) {
      if (w->name() == name) return w.get();
    }
    return nullptr;
  };
  // Each row as it changes, handed to the recorder at once (a block begins or ends a few times a
  // winter); never written from the cycle.
  charge_block_.build(devices::charge_limits(config), rows, writer, [this, &storage](const std::string& name, const ChargeLimitRow& r) {
    Records rec;
    rec.wall_s = clock_.wall_s();
    rec.charge_limits[name] = r;
    if (auto* recorder = storage.recorder()) recorder->post(std::move(rec));
  });
  for (const auto& line : charge_block_.resumed()) log::info("{}", line);
  for (const auto& line : charge_block_.orphaned()) log::warn("{}", line);
}

void SafetyLoop::take_core_counts() {
  stats_.undecided = core_.counts().undecided;
  stats_.unswitched = core_.counts().unswitched;
}

std::string SafetyLoop::status_line(const std::string& mqtt, bool safe_state, const Config& config) const {
  const auto& b = core_.decision().battery;
  int on = 0;
  for (const auto& l : core_.site().loads) on += decision_for(core_.decision(), l).on;
  std::string devices;
  for (const auto& [name, h] : device_log_.all()) {
    devices += fmt::format(", {} {}", name, h.consecutive_failures == 0 && h.last_success ? "ok" : "DOWN");
  }
  const std::string side = loop_status(stats_, safe_state);
  return fmt::format("{} ({}), {}/{} loads on{}{}{}{}",
                     b.measured_v ? fmt::format("{:.2f} V", *b.measured_v) : std::string("no voltage"),
                     b.soc_pct ? fmt::format("{:.0f} %", *b.soc_pct) : std::string("-"), on, core_.site().loads.size(), devices,
                     mqtt, config.shadow ? ", SHADOW: switches nothing" : config.dry_run ? ", dry run" : "", side);
}

void SafetyLoop::said(const std::string& mqtt, bool safe_state, const Config& config, bool alive) {
  stats_.log_lost = log::lost_lines();
  const std::string status = status_line(mqtt, safe_state, config);
  if (alive && !told_first_) {
    told_first_ = true;
    log::info("first decision: {}", status);
  }
  systemd_.say("STATUS=" + status);
}

}  // namespace shackd
