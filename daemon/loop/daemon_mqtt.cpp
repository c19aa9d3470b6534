// The daemon's MQTT side: the client and relays, and what the intake (daemon/intake/) made of what
// came in, handed on to the core, the store, the publisher and the history.
#include "daemon/loop/daemon.hpp"

#include <fmt/format.h>

#include "daemon/config/mqtt_settings.hpp"
#include "daemon/intake/mqtt_intake.hpp"
#include "daemon/vocab/uplink.hpp"
#include "daemon/system/log.hpp"
#include "drivers/text/utf8.hpp"

namespace shackd {

// The MQTT link and the relay manager for `config`, subscribed but not started: built aside, so
// that a reload can keep the running ones when this throws.
Daemon::MqttSide Daemon::make_mqtt(const Config& config) const {
  drivers::mqtt::ClientConfig c;
  c.uri = config.mqtt.uri;
  c.client_id = config.mqtt.client_id;
  c.username = config.mqtt.username;
  c.password_file = config.mqtt.password_file;
  c.ca_file = config.mqtt.ca_file;
  c.cert_file = config.mqtt.cert_file;
  c.key_file = config.mqtt.key_file;
  c.keepalive = config.mqtt.keepalive;
  c.status_topic = config.mqtt.prefix + "/status";
  MqttSide side;
  side.link = seams_.make_mqtt ? seams_.make_mqtt(c) : std::make_unique<drivers::mqtt::Client>(c);
  // The relay lane (drivers/mqtt/lanes.hpp): through whatever link is the daemon's when it sends
  // (this one, once taken). Each relay's command in force stands with the link in force, sent
  // first at its next connect.
  // Shadow mode (issue 60): the relays' lane is shut here, whatever the manager is asked. The
  // dry run's guards already keep every command, question and power-on setting from being made
  // (SafetyCore::apply, MqttIntake, take_store, shutdown); this is the second lock, and says so
  // loudly if it ever has to hold one back.
  const bool shadow = config.shadow;
  side.relays = std::make_unique<drivers::mqtt::RelayManager>(
      config.relays, config.relay_timing,
      [lane = mqtt_.relay_lane(), shadow](const std::string& topic, const std::string& payload, int qos, bool retain) {
        if (shadow) {
          log::limited("shadow gate", log::Level::error,
                       fmt::format("shadow: a message to a relay was held back ({} {}): shackd sends nothing to the "
                                   "relays in shadow mode",
                                   topic, payload));
          return false;
        }
        return lane.publish(topic, payload, qos, retain);
      },
      [lane = mqtt_.relay_lane(), shadow](const std::string& id, std::vector<drivers::mqtt::Outgoing> commands) {
        if (!shadow) lane.stand(id, std::move(commands));
      });
  // Asked at every connect of this link, after the commands and the subscriptions: a relay that
  // lost its power while the broker was away says so at once (its uptime, relays.hpp).
  if (!config.dry_run) {
    for (const auto& r : config.relays) {
      if (auto q = drivers::mqtt::state_query(r, 0)) side.link->ask_on_connect(r.id, {std::move(*q)});
    }
  }
  for (const auto& s : side.relays->subscriptions()) side.link->subscribe(s);
  for (const auto& s : config.sensors) side.link->subscribe(s.topic);
  side.link->subscribe(config.mqtt.prefix + "/load/+/mode/set");
  if (config.mqtt.allow_settings) {
    for (const auto& field : settable_fields()) side.link->subscribe(config.mqtt.prefix + "/load/+/" + field + "/set");
  }
  if (config.mqtt.discovery) side.link->subscribe(config.mqtt.discovery_prefix + "/status");
  if (config.uplink.enabled) side.link->subscribe(kBridgeStateSubscription);
  // What the broker drops past its queues, as it counts it (BrokerWatch): nothing else tells of
  // messages that never reached shackd.
  side.link->subscribe(kBrokerDroppedTopic);
  return side;
}

void Daemon::start_mqtt() {
  // The bulk lane (drivers/mqtt/lanes.hpp) routes to the link in force: a reload changes nothing here.
  events_.outbox().set_lane(mqtt_.bulk_lane());
  publisher_.set_lane(mqtt_.bulk_lane());
  mqtt_.take(make_mqtt(config_));
  // Paced by the broker's acknowledgements between cycles too; a test's in-process link is
  // pumped by the cycle alone, unless it asks (Seams::events_thread).
  if (seams_.events_thread.value_or(!seams_.make_mqtt)) events_.outbox().start_thread();
}

// The core takes its overrides, in the order they came, before it decides: the only writer of
// its state.
void Daemon::take_overrides(std::vector<OverrideRequest>& taken) {
  for (auto& r : core_.take_overrides()) {
    storage_.overridden(r.state_key);
    taken.push_back(std::move(r));
  }
}

// What the core took, told after the relays.
void Daemon::tell_overrides(const std::vector<OverrideRequest>& taken) {
  for (const auto& r : taken) {
    log::info("{}: override {}", r.load_name, r.said);
    event("override", r.load_id,
          {r.value.mode == rules::OverrideMode::on    ? rules::ReasonCode::override_on
           : r.value.mode == rules::OverrideMode::off ? rules::ReasonCode::override_off
                                                      : rules::ReasonCode::none},
          "mode set to " + r.said, clock_.wall_s());
  }
}

// The site as the intake checks a message against: the loads, and the profiles with the settings
// still on their way to the card.
IntakeSite Daemon::intake_site() const {
  return {core_.site().loads, settings_.ahead(core_.site().profiles)};
}

// What came in since the last cycle (daemon/intake/mqtt_intake.hpp): at most kMessagesPerCycle
// messages and a quarter of the interval, the rest dropped and counted; a neighbour's flood costs
// a bounded share of a cycle, never the decision. Connection events are always read.
bool Daemon::handle_mqtt(rules::SteadyTime now) {
  if (!mqtt_.present()) return false;
  // On the loop's monotonic clock: a test's stepped clock stands still within a cycle, so there
  // only the count binds, whatever the machine's speed (ASan made the time bind first).
  const auto budget_end = clock_.steady() + config_.interval / 4;
  Intake in = intake_.take([this] { return mqtt_.poll(); }, mqtt_.relays(), intake_site(), clock_, budget_end, now);
  const bool connected = in.connected;
  hand_on(std::move(in), now);
  stats_.mqtt_dropped_by_link = static_cast<std::uint64_t>(mqtt_.dropped_incoming());
  const MqttHealth& h = intake_.broker().health();
  stats_.broker_dropped = h.broker_dropped;
  stats_.broker_drops_heard = h.broker_dropped_total.has_value();
  return connected;
}

void Daemon::on_message(const std::string& topic, const std::string& payload, bool retained, rules::SteadyTime now) {
  Intake in;
  intake_.message(in, topic, payload, retained, mqtt_.relays(), intake_site(), now, clock_.wall_s());
  hand_on(std::move(in), now);
}

// The intake's values to where they go: a connection's work (the events waiting first, everything
// published again), readings to the core's devices, overrides to its inbox,
// settings to the store, events to the history.
void Daemon::hand_on(Intake&& in, rules::SteadyTime now) {
  const std::int64_t wall = clock_.wall_s();
  for (const auto& what : in.failures) side_failed(SideJob::mqtt_in, what.c_str());
  stats_.mqtt_dropped += in.dropped;
  stats_.mqtt_refused += in.refused;
  if (in.connected) {
    // The events of the start or the outage go first, pumped after the relays (Daemon::cycle):
    // the read step never waits for the outbox's sending.
    publisher_.send_everything();
    // What shackd's own commands left retained before they stopped having a will (0.2.0's `once`
    // and `status`): cleared, so that a broker does not say "offline" for them for ever.
    for (const char* role : {"/status-once", "/status-cli"}) publisher_.send(config_.mqtt.prefix + role, "", true, 1);
    // Shadow mode said where `status` and Home Assistant look (issue 60); a run that commands
    // clears what a shadow run left.
    publisher_.send(config_.mqtt.prefix + "/shadow", config_.shadow ? shadow_mode_json() : std::string(), true, 1);
    shadow_.republish();
  }
  if (in.send_everything) publisher_.send_everything();
  for (const auto& [name, value] : in.readings) core_.devices().set_reading(name, value, now);
  for (auto& r : in.overrides) {
    if (core_.inbox().push(std::move(r))) continue;
    ++stats_.mqtt_dropped;
    log::limited("override inbox", log::Level::warn,
                 fmt::format("override refused: more than {} in one cycle", OverrideInbox::kMax));
  }
  for (const auto& e : in.events) event(e.kind, e.load_id, {rules::ReasonCode::none}, e.detail, wall);
  for (const auto& [id, why] : in.settings_refused) refuse_setting(id, why);
  // Each setting to the recorder's thread, never waited for (daemon/intake/setting_desk.hpp). One
  // it cannot take refuses the ones after it: they were checked on top of it.
  std::string why;
  bool refused_one = false;
  for (auto& s : in.settings) {
    const std::string id = s.load_id;
    if (why.empty() && settings_.post(storage_.recorder(), std::move(s), why)) continue;
    // The ones after it were checked on top of it: said with the first one's reason.
    refuse_setting(id, refused_one ? "checked on top of an earlier setting that could not be stored: " + why + ": send both again later"
                                   : why + ": send it again later");
    refused_one = true;
  }
}

// At the top of a cycle: the settings the store has taken, put in force, each checked again
// against the profiles in force (a reload may have come between); those it could not take said.
void Daemon::take_settings() {
  for (auto& o : settings_.take()) {
    const SettingRequest& q = o.request;
    if (o.refused.empty()) {
      SettingResult r = apply_setting(core_.site().profiles, core_.site().loads, intake_.profiles_section(), q.load_id,
                                      q.field, q.payload);
      if (r.next && r.refused.empty()) {
        CoreSite site = core_.site();  // a setting is rare: the site copied, its profiles replaced
        site.profiles = std::move(*r.next);
        core_.take_site(std::move(site), core_.state());
        log::info("profiles: {} (set over MQTT)", r.change);
        event("config", q.load_id, {rules::ReasonCode::none}, "profiles: " + r.change + " (set over MQTT)", clock_.wall_s());
        continue;
      }
      o.refused = "stored, but the profiles in force no longer take it: " + r.refused;
    }
    refuse_setting(q.load_id, o.refused);
  }
}

void Daemon::refuse_setting(const std::string& load_id, const std::string& why) {
  const std::string said = drivers::text::clean_utf8(why, 300);  // it may quote what the client sent
  log::limited("setting refused", log::Level::warn, fmt::format("setting refused: {}", said));
  event("config", load_id, {rules::ReasonCode::none}, "setting refused: " + said, clock_.wall_s());
  publisher_.forget_settings(load_id);  // Home Assistant shows the value in force again
}

void Daemon::listen_for_sensors(std::chrono::milliseconds bound) {
  for (const auto& [name, value] : shackd::listen_for_sensors(config_.mqtt, config_.sensors, bound, clock_)) {
    core_.devices().set_reading(name, value, clock_.steady());
  }
}

}  // namespace shackd
