#include "daemon/loop/mqtt_desk.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "daemon/config/mqtt_settings.hpp"
#include "daemon/loop/mqtt_links.hpp"
#include "daemon/loop/safety_loop.hpp"
#include "daemon/loop/shadow_side.hpp"
#include "daemon/publish/publisher.hpp"
#include "daemon/recorder/store_side.hpp"
#include "daemon/system/log.hpp"
#include "drivers/text/utf8.hpp"

namespace shackd {

// The site as the intake checks a message against: the loads, and the profiles with the settings
// still on their way to the card.
IntakeSite MqttDesk::site() const {
  const auto& core = p_.loop.core();
  return {core.site().loads, settings_.ahead(core.site().profiles)};
}

// On the loop's monotonic clock: a test's stepped clock stands still within a cycle, so there only
// the count binds, whatever the machine's speed (ASan made the time bind first). Connection
// events are always read; a neighbour's flood costs a bounded share of a cycle, never the decision.
bool MqttDesk::take(rules::SteadyTime now) {
  if (!p_.mqtt.present()) return false;
  const auto budget_end = p_.clock.steady() + p_.config.interval / 4;
  Intake in = intake_.take([this] { return p_.mqtt.poll(); }, p_.mqtt.relays(), site(), p_.clock, budget_end, now);
  const bool connected = in.connected;
  hand_on(std::move(in), now);
  LoopStats& stats = p_.loop.stats();
  stats.mqtt_dropped_by_link = static_cast<std::uint64_t>(p_.mqtt.dropped_incoming());
  const MqttHealth& h = intake_.broker().health();
  stats.broker_dropped = h.broker_dropped;
  stats.broker_drops_heard = h.broker_dropped_total.has_value();
  return connected;
}

// The intake's values to where they go: a connection's work (the events waiting first, everything
// published again), readings to the core's devices, overrides to its inbox, settings to the
// store, events to the history.
void MqttDesk::hand_on(Intake&& in, rules::SteadyTime now) {
  const std::int64_t wall = p_.clock.wall_s();
  LoopStats& stats = p_.loop.stats();
  SafetyCore& core = p_.loop.core();
  for (const auto& what : in.failures) side_failed(stats, SideJob::mqtt_in, what.c_str());
  stats.mqtt_dropped += in.dropped;
  stats.mqtt_refused += in.refused;
  if (in.connected) {
    // The events of the start or the outage go first, pumped after the relays (Daemon::cycle):
    // the read step never waits for the outbox's sending.
    p_.publisher.send_everything();
    // What shackd's own commands left retained before they stopped having a will (0.2.0's `once`
    // and `status`): cleared, so that a broker does not say "offline" for them for ever.
    for (const char* role : {"/status-once", "/status-cli"}) p_.publisher.send(p_.config.mqtt.prefix + role, "", true, 1);
    // Shadow mode said where `status` and Home Assistant look (issue 60); a run that commands
    // clears what a shadow run left.
    p_.publisher.send(p_.config.mqtt.prefix + "/shadow", p_.config.shadow ? shadow_mode_json() : std::string(), true, 1);
    // Likewise a candidate profile beside the one in force.
    const auto& sets = p_.shadow.candidate_sets();
    p_.publisher.send(p_.config.mqtt.prefix + "/candidate", sets.empty() ? std::string() : candidate_mode_json(sets), true, 1);
    p_.shadow.republish();
  }
  if (in.send_everything) p_.publisher.send_everything();
  for (const auto& [name, value] : in.readings) core.devices().set_reading(name, value, now);
  for (auto& r : in.overrides) {
    if (core.inbox().push(std::move(r))) continue;
    ++stats.mqtt_dropped;
    log::limited("override inbox", log::Level::warn,
                 fmt::format("override refused: more than {} in one cycle", OverrideInbox::kMax));
  }
  for (const auto& e : in.events) p_.events.add(load_event(e.kind, e.load_id, {rules::ReasonCode::none}, e.detail, wall));
  for (const auto& no : in.settings_refused) refuse_setting(no);
  // Each setting to the recorder's thread, never waited for (daemon/intake/setting_desk.hpp). One
  // it cannot take refuses the ones after it: they were checked on top of it.
  std::optional<Refusal> first;
  for (auto& s : in.settings) {
    if (!first) {
      first = settings_.post(p_.storage.recorder(), std::move(s));
      if (!first) continue;
      Refusal no = *first;
      no.said += ": send it again later";
      refuse_setting(no);
      continue;
    }
    // The ones after it were checked on top of it: said with the first one's reason.
    refuse_setting(Refusal{.load_id = s.load_id,
                           .field = s.field,
                           .value = drivers::text::clean_utf8(s.payload, 32),
                           .rule = "checked on top of an earlier setting that could not be stored",
                           .said = "checked on top of an earlier setting that could not be stored: " + first->rule +
                                   ": send both again later"});
  }
}

// At the top of a cycle: the settings the store has taken, put in force, each checked again
// against the profiles in force (a reload may have come between); those it could not take said.
void MqttDesk::take_settings() {
  SafetyCore& core = p_.loop.core();
  for (auto& o : settings_.take()) {
    const SettingRequest& q = o.request;
    if (!o.refused) {
      auto r = apply_setting(core.site().profiles, core.site().loads, intake_.profiles_section(), q.load_id, q.field,
                             q.payload);
      if (r) {
        CoreSite next = core.site();  // a setting is rare: the site copied, its profiles replaced
        next.profiles = std::move(r->next);
        core.take_site(std::move(next), core.state());
        log::info("profiles: {} (set over MQTT)", r->change);
        p_.events.add(load_event("config", q.load_id, {rules::ReasonCode::none}, "profiles: " + r->change + " (set over MQTT)",
                                 p_.clock.wall_s()));
        continue;
      }
      o.refused = r.refusal();
      o.refused->said = "stored, but the profiles in force no longer take it: " + o.refused->said;
    }
    refuse_setting(*o.refused);
  }
}

void MqttDesk::refuse_setting(const Refusal& no) {
  const std::string said = drivers::text::clean_utf8(no.said, 300);  // it may quote what the client sent
  log::limited("setting refused", log::Level::warn, fmt::format("setting refused: {}", said));
  p_.events.add(load_event("config", no.load_id, {rules::ReasonCode::none}, "setting refused: " + said, p_.clock.wall_s()));
  p_.publisher.forget_settings(no.load_id);  // Home Assistant shows the value in force again
}

// The core takes its overrides, in the order they came, before it decides: the only writer of
// its state. Then the loads whose relay lost its power: OFF since then, before the rules (issue 56).
MqttDesk::BeforeRules MqttDesk::before_rules(rules::SteadyTime now) {
  BeforeRules b;
  SafetyCore& core = p_.loop.core();
  p_.loop.guarded(SideJob::mqtt_in, [&] {
    for (auto& r : core.take_overrides()) {
      p_.storage.overridden(r.state_key);
      b.overrides.push_back(std::move(r));
    }
  });
  p_.loop.guarded(SideJob::mqtt_in, [&] {
    if (p_.mqtt.relays()) b.lost = core.take_power_news(p_.mqtt.relays()->take_power_news(), now);
  });
  return b;
}

std::string MqttDesk::status() const {
  if (!p_.mqtt.present()) return {};
  const BrokerWatch& broker = intake_.broker();
  if (broker.failure().empty() && p_.mqtt.connected()) return ", mqtt ok";
  // How long relay commands have waited for the broker, and why (issue 56).
  std::string mqtt = ", MQTT DOWN";
  if (const auto& since = broker.health().down_since_unix_s) {
    mqtt += fmt::format(" for {} s", std::max<std::int64_t>(0, p_.clock.wall_s() - *since));
  }
  if (!broker.failure().empty()) mqtt += ": " + broker.failure();
  return mqtt;
}

}  // namespace shackd
