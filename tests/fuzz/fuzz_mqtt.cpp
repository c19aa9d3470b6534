// libFuzzer: the MQTT payload parsers: relay state and power-on answers for every protocol,
// sensor JSON in every format, and override commands. Input: one selector byte, one topic byte, then the payload.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "drivers/mqtt/commands.hpp"
#include "drivers/mqtt/power_on.hpp"
#include "drivers/mqtt/relay_protocol.hpp"
#include "drivers/mqtt/sensors.hpp"

namespace {
using namespace drivers::mqtt;

std::vector<RelayConfig> relays() {
  std::vector<RelayConfig> out;
  RelayConfig t{.id = "t", .protocol = RelayProtocol::tasmota, .topic = "miner"};
  out.push_back(t);
  t.channel = 2;
  out.push_back(t);
  out.push_back({.id = "s1", .protocol = RelayProtocol::shelly_gen1, .topic = "shelly1-AABB"});
  out.push_back({.id = "s2", .protocol = RelayProtocol::shelly_gen2, .topic = "shellyplus1-CCDD"});
  out.push_back({.id = "e", .protocol = RelayProtocol::esphome, .topic = "fan-node", .object_id = "relay"});
  RelayConfig g{.id = "g", .protocol = RelayProtocol::generic};
  g.command_topic = "g/set";
  g.state_topic = "g/state";
  g.availability_topic = "g/avail";
  out.push_back(g);
  return out;
}

std::vector<SensorConfig> sensors() {
  return {{.id = "a", .topic = "s", .format = SensorFormat::tasmota, .key = "DS18B20"},
          {.id = "b", .topic = "s", .format = SensorFormat::tasmota, .key = "00000566CC39"},
          {.id = "c", .topic = "s", .format = SensorFormat::json, .key = "sensors.0.temp"},
          {.id = "d", .topic = "s", .format = SensorFormat::number}};
}

// A concrete topic from a subscription filter: wildcards become a plain level.
std::string concrete(std::string filter) {
  for (auto& c : filter) {
    if (c == '+' || c == '#') c = 'x';
  }
  return filter;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<RelayConfig> all_relays = relays();
  static const std::vector<SensorConfig> all_sensors = sensors();
  if (size < 2) return 0;
  const std::uint8_t which = data[0];
  const std::uint8_t topic_at = data[1];
  const std::string payload(reinterpret_cast<const char*>(data + 2), size - 2);
  switch (which % 3) {
    case 0: {
      const RelayConfig& r = all_relays[(which / 3) % all_relays.size()];
      const auto subs = relay_subscriptions(r);
      if (subs.empty()) return 0;
      (void)parse_relay_message(r, concrete(subs[topic_at % subs.size()]), payload);
      // ... and its power-on answers (Tasmota's PowerOnState, a Shelly's configuration), on the
      // same topics and its own.
      auto on_topics = subs;
      for (auto& t : power_on_subscriptions(r)) on_topics.push_back(t);
      (void)parse_power_on(r, concrete(on_topics[topic_at % on_topics.size()]), payload);
      break;
    }
    case 1: {
      const SensorResult res = parse_sensor_message(all_sensors, "s", payload);
      // Every sensor on the topic gets a value or a reason, never both missing.
      if (res.readings.size() + res.errors.size() < all_sensors.size()) __builtin_trap();
      break;
    }
    default: {
      const auto c = parse_mode_command(payload);
      if (const auto* why = std::get_if<std::string>(&c); why && why->empty()) __builtin_trap();
      (void)mode_topic_load("shack", payload);
      break;
    }
  }
  return 0;
}
