#include "daemon/loop/site_parts.hpp"

#include <fmt/format.h>

#include <utility>

#include "daemon/config/mqtt_settings.hpp"
#include "daemon/devices/registry.hpp"
#include "daemon/intake/broker_watch.hpp"
#include "daemon/loop/poller.hpp"
#include "daemon/system/log.hpp"
#include "daemon/vocab/uplink.hpp"
#include "drivers/mqtt/client.hpp"

namespace shackd {

std::vector<std::unique_ptr<PolledDevice>> make_workers(const Config& config, const Seams& seams) {
  std::vector<std::unique_ptr<PolledDevice>> out;
  for (auto& d : devices::modbus_devices(config)) {
    out.push_back(seams.make_device ? seams.make_device(std::move(d)) : std::make_unique<PollWorker>(std::move(d)));
  }
  return out;
}

// The MQTT link and the relay manager for `config`, subscribed but not started: built aside, so
// that a reload can keep the running ones when this throws.
MqttLinks::Side make_mqtt_side(const Config& config, const Seams& seams, drivers::mqtt::RelayLane lane) {
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
  MqttLinks::Side side;
  side.link = seams.make_mqtt ? seams.make_mqtt(c) : std::make_unique<drivers::mqtt::Client>(c);
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
      [lane, shadow](const std::string& topic, const std::string& payload, int qos, bool retain) {
        if (shadow) {
          log::limited("shadow gate", log::Level::error,
                       fmt::format("shadow: a message to a relay was held back ({} {}): shackd sends nothing to the "
                                   "relays in shadow mode",
                                   topic, payload));
          return false;
        }
        return lane.publish(topic, payload, qos, retain);
      },
      [lane, shadow](const std::string& id, std::vector<drivers::mqtt::Outgoing> commands) {
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

}  // namespace shackd
