// The daemon's MQTT side: the client and relays, what comes in (relay states, sensors, overrides,
// Home Assistant's restarts) and the broker's outages.
#include "daemon/loop/daemon.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

#include "daemon/config/mqtt_settings.hpp"
#include "daemon/publish/uplink.hpp"
#include "daemon/system/log.hpp"
#include "drivers/mqtt/commands.hpp"
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
  // Publishes through whatever link is the daemon's when it sends (this one, once swapped in).
  side.relays = std::make_unique<drivers::mqtt::RelayManager>(
      config.relays, config.relay_timing, [this](const std::string& topic, const std::string& payload, int qos, bool retain) {
        return mqtt_.publish(topic, payload, qos, retain);
      });
  for (const auto& s : side.relays->subscriptions()) side.link->subscribe(s);
  for (const auto& s : config.sensors) side.link->subscribe(s.topic);
  side.link->subscribe(config.mqtt.prefix + "/load/+/mode/set");
  if (config.mqtt.allow_settings) {
    for (const auto& field : settable_fields()) side.link->subscribe(config.mqtt.prefix + "/load/+/" + field + "/set");
  }
  if (config.mqtt.discovery) side.link->subscribe(config.mqtt.discovery_prefix + "/status");
  if (config.uplink.enabled) side.link->subscribe(kBridgeStateSubscription);
  return side;
}

void Daemon::start_mqtt() {
  MqttSide side = make_mqtt(config_);
  events_.outbox().set_link(side.link.get());
  publisher_.set_link(side.link.get());
  mqtt_.take(std::move(side), {});
  // Paced by the broker's acknowledgements between cycles too; a test's in-process link is
  // pumped by the cycle alone, unless it asks (Seams::events_thread).
  if (seams_.events_thread.value_or(!seams_.make_mqtt)) events_.outbox().start_thread();
}

void Daemon::mqtt_publish(const std::string& topic, const std::string& payload, bool retain, int qos) {
  publisher_.send(topic, payload, retain, qos);
}

// A mode command, read and checked where it arrives; what the core is to do goes to its inbox,
// a refusal is said here and never reaches it.
void Daemon::handle_mode_command(const std::string& id, const std::string& payload, rules::SteadyTime now) {
  auto read = read_override(core_.site().loads, id, payload, now);
  if (auto* no = std::get_if<OverrideRefusal>(&read)) {
    const auto* load = no->load_id.empty() ? nullptr : find_load(core_.site().loads, no->load_id).front();
    log::limited("override refused", log::Level::warn,
                 load ? fmt::format("{}: override refused: {}", load->name, no->why) : "override refused: " + no->why);
    event("override_rejected", no->load_id, {rules::ReasonCode::none}, no->why, clock_.wall_s());
    return;
  }
  if (!core_.inbox().push(std::move(std::get<OverrideRequest>(read)))) {
    ++stats_.mqtt_dropped;
    log::limited("override inbox", log::Level::warn,
                 fmt::format("override refused: more than {} in one cycle", OverrideInbox::kMax));
  }
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

// What came in since the last cycle. Each message is handled in its own guard; a cycle handles
// at most kMessagesPerCycle of them and spends at most a quarter of its interval on them, and
// drops (and counts) the rest: a neighbour's flood costs a bounded share of a cycle, never the
// decision. Connection events are always handled.
void Daemon::handle_mqtt(rules::SteadyTime now) {
  if (!mqtt_.link()) return;
  // On the loop's monotonic clock: a test's stepped clock stands still within a cycle, so there
  // only the count binds, whatever the machine's speed (ASan made the time bind first).
  const auto budget_end = clock_.steady() + config_.interval / 4;
  std::size_t handled = 0;
  while (const auto e = mqtt_.link()->poll(std::chrono::milliseconds(0))) {
    if (e->kind == drivers::mqtt::Event::Kind::message) {
      if (handled >= kMessagesPerCycle || clock_.steady() >= budget_end) {
        ++stats_.mqtt_dropped;
        continue;
      }
      ++handled;
      guarded(SideJob::mqtt_in, [&] { on_message(e->topic, e->payload, e->retained, now); });
      continue;
    }
    guarded(SideJob::mqtt_in, [&] { on_connection_event(*e, now); });
  }
  stats_.mqtt_dropped_by_link = static_cast<std::uint64_t>(mqtt_.link()->dropped_incoming());
}

// The link's news (BrokerWatch keeps the outages for <prefix>/health), and what a connection
// starts: the events waiting go first, the relays are sent again, everything is published again.
void Daemon::on_connection_event(const drivers::mqtt::Event& e, rules::SteadyTime now) {
  const std::int64_t wall = clock_.wall_s();
  switch (e.kind) {
    case drivers::mqtt::Event::Kind::connect_failed:
      if (const auto a = broker_.connect_failed(e.payload, wall)) event("alarm", "", {rules::ReasonCode::none}, a->text, wall);
      break;
    case drivers::mqtt::Event::Kind::connected:
      events_.outbox().pump();  // the events of the start or the outage go first: the outbox is in order
      if (const auto a = broker_.connected(wall)) event("alarm_end", "", {rules::ReasonCode::none}, a->text, wall);
      log::info("mqtt: connected to {}", config_.mqtt.uri);
      if (!config_.dry_run) mqtt_.relays()->on_connected(now);
      publisher_.send_everything();
      // What shackd's own commands left retained before they stopped having a will (0.2.0's
      // `once` and `status`): cleared, so that a broker does not say "offline" for them for ever.
      for (const char* role : {"/status-once", "/status-cli"}) mqtt_publish(config_.mqtt.prefix + role, "", true);
      break;
    case drivers::mqtt::Event::Kind::lost: broker_.lost(e.payload, wall); break;
    case drivers::mqtt::Event::Kind::message: break;
  }
}

void Daemon::on_message(const std::string& topic, const std::string& payload, bool retained, rules::SteadyTime now) {
  // No relay, sensor or command message is near this size (a Shelly's full status is a few kB):
  // a larger one is refused unread, so that nobody's megabyte is parsed every cycle.
  if (payload.size() > kMaxPayloadBytes || topic.size() > kMaxTopicBytes) {
    ++stats_.mqtt_refused;
    log::limited("mqtt oversized", log::Level::warn,
                 fmt::format("mqtt: ignored a {}-byte message on '{}' (more than {} bytes)", payload.size(),
                             drivers::text::clean_utf8(topic, 80), kMaxPayloadBytes));
    return;
  }
  // A device that both switches and measures (a Tasmota plug with a DS18B20) sends its
  // power and its temperature in one tele/<t>/SENSOR: the relay takes its part, and the
  // message still goes on to the sensors below (they read only the topics configured).
  // The bridge's state is retained by the broker on purpose: it is the current one.
  if (config_.uplink.enabled) {
    std::optional<BrokerWatch::Alarm> said;
    const auto wall = clock_.wall_s();
    const bool sys = broker_.bridge(topic, payload, wall,
                                    config_.uplink.bridge.empty() ? "shackd-" + fleet_site_id() : config_.uplink.bridge, said);
    if (said) event(said->raised ? "alarm" : "alarm_end", "", {rules::ReasonCode::none}, said->text, wall);
    if (sys) return;
  }
  const bool relay_news = mqtt_.relays() && mqtt_.relays()->on_message(topic, payload, now);
  if (relay_news && !drivers::mqtt::is_sensor_topic(config_.sensors, topic)) return;
  if (const auto id = drivers::mqtt::mode_topic_load(config_.mqtt.prefix, topic)) {
    if (!retained) handle_mode_command(*id, payload, now);  // a retained command is stale
    return;
  }
  if (const auto set = config_.mqtt.allow_settings ? setting_topic(config_.mqtt.prefix, topic) : std::nullopt) {
    if (!retained) handle_setting(set->first, set->second, payload);  // a retained command is stale
    return;
  }
  if (config_.mqtt.discovery && topic == config_.mqtt.discovery_prefix + "/status") {
    if (payload == "online") publisher_.send_everything();  // Home Assistant restarted
    return;
  }
  // A retained sensor message (Tasmota SensorRetain) has no age: it may be hours old, and
  // stamping it "now" would make a dead sensor look alive. Only live messages count.
  if (retained) {
    log::debug("ignored a retained message on {}: its age is unknown", topic);
    return;
  }
  const auto r = drivers::mqtt::parse_sensor_message(config_.sensors, topic, payload);
  for (const auto& x : r.readings) core_.devices().set_reading("sensor." + x.id, x.value, now);
  for (const auto& why : r.errors) log::limited("sensor " + topic, log::Level::warn, drivers::text::clean_utf8(why, 300));
}

void Daemon::listen_for_sensors(std::chrono::milliseconds bound) {
  if (config_.sensors.empty()) return;
  drivers::mqtt::Client client(side_client_config(config_.mqtt, "once"));
  for (const auto& s : config_.sensors) client.subscribe(s.topic);
  client.start();
  std::set<std::string> want;
  for (const auto& s : config_.sensors) want.insert(s.id);
  const auto until = clock_.steady() + bound;
  while (!want.empty() && clock_.steady() < until) {
    const auto e = client.poll(std::chrono::milliseconds(20));
    if (!e) continue;
    if (e->kind == drivers::mqtt::Event::Kind::connect_failed) {
      log::warn("once: mqtt: {}; deciding without the MQTT sensors", e->payload);
      break;
    }
    // As in the loop: a retained message has no age, so it is not a reading.
    if (e->kind != drivers::mqtt::Event::Kind::message || e->retained) continue;
    const auto r = drivers::mqtt::parse_sensor_message(config_.sensors, e->topic, e->payload);
    for (const auto& x : r.readings) {
      core_.devices().set_reading("sensor." + x.id, x.value, clock_.steady());
      want.erase(x.id);
    }
  }
  for (const auto& id : want) {
    log::info("once: no live message from sensor {} within {} s (Tasmota reports every TelePeriod)", id,
              bound.count() / 1000);
  }
  client.shutdown(std::chrono::milliseconds(500));
}

}  // namespace shackd
