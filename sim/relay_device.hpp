#pragma once
// The firmware's side of each relay protocol shackd speaks (docs/protocols.md §1), and of each
// sensor format it reads: what a Tasmota, Shelly Gen1, Shelly Gen2, ESPHome or generic relay
// subscribes to, how it takes a command, what it reports, and what a sensor publishes. The
// simulator answers an owner's own relays with these (shackd-sim --site-from); the topics come
// from the same RelayConfig shackd's side uses, so the two cannot drift apart (a test feeds every
// report back through shackd's parser).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "drivers/mqtt/relay_protocol.hpp"
#include "drivers/mqtt/sensors.hpp"

namespace sim {

using drivers::mqtt::Outgoing;
using drivers::mqtt::RelayConfig;

// The topics the firmware listens on for commands.
std::vector<std::string> device_subscriptions(const RelayConfig& r);

// What it publishes when it connects: its availability, then its state.
std::vector<Outgoing> device_hello(const RelayConfig& r, bool on);

// Its last will, as the broker publishes it when the device drops off (a power cut): nullopt for
// a generic relay without an availability topic.
std::optional<Outgoing> device_goodbye(const RelayConfig& r);

// A command the firmware took from `topic`: the state it asks for, and any direct reply (a Shelly
// Gen2 RPC answer to the caller's <src>/rpc). nullopt: not a switching command for this relay
// (Tasmota's PulseTime or Dimmer, another relay's topic, a malformed RPC).
struct DeviceCommand {
  bool on = false;
  std::vector<Outgoing> replies;
};
std::optional<DeviceCommand> device_command(const RelayConfig& r, const std::string& topic, const std::string& payload,
                                             bool was_on);

// The report of its output after a command. A Shelly Gen2 sends NotifyStatus only for a change;
// `changed` false gives nothing there.
std::vector<Outgoing> device_state(const RelayConfig& r, bool on, bool changed);

// Its power-on setting (docs/protocols.md §1.6), as the firmware stores it: Tasmota's
// PowerOnState "0".."5" (its default "3", the last saved state: Tasmota docs), a Shelly Gen2+
// switch's initial_state ("off", "on", "restore_last", "match_input"; Shelly documents no factory
// default: the simulator starts at "off" unless told). Gen1, ESPHome and generic relays have
// none that MQTT can reach; the simulator keeps "off" for them.
std::string default_power_on(const RelayConfig& r);
// Whether `setting` is one the firmware takes (what a set of anything else is refused with).
bool valid_power_on(const RelayConfig& r, const std::string& setting);
// A request about the setting (Tasmota's `PowerOnState` command, a Shelly's Switch.GetConfig or
// Switch.SetConfig), answered as the firmware answers it; `setting` is changed by a set.
// nullopt: not such a request for this relay.
std::optional<std::vector<Outgoing>> device_power_on_request(const RelayConfig& r, const std::string& topic,
                                                             const std::string& payload, std::string& setting);
// A question about its state (Tasmota's `State`, a Shelly Gen2's Shelly.GetStatus), answered as
// the firmware answers it. nullopt: not such a question for this relay (Shelly Gen1, ESPHome and
// generic relays have none that MQTT reaches).
std::optional<std::vector<Outgoing>> device_state_request(const RelayConfig& r, const std::string& topic,
                                                          const std::string& payload, bool on, std::int64_t uptime_s);

// What the output does when the power comes back, by the setting: `was_on` is the state it had
// (and saved) when the power went, `input_on` its wall switch.
bool powers_up_on(const RelayConfig& r, const std::string& setting, bool was_on, bool input_on = false);

// A metering relay's power report, where its protocol has one (Tasmota ENERGY.Power, Shelly Gen1
// relay/<n>/power, Shelly Gen2 apower in NotifyStatus).
std::optional<Outgoing> device_power(const RelayConfig& r, bool on, double power_w);

// A temperature sensor's message in the sensor's format: Tasmota's SENSOR JSON (the key as the
// sensor's name, or as a DS18x20's Id), a JSON document with the value at the dotted path, or
// the number alone.
Outgoing sensor_message(const drivers::mqtt::SensorConfig& s, double celsius);

}  // namespace sim
