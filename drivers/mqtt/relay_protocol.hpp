#pragma once
// What each relay firmware expects on MQTT, as pure functions: the command topics and payloads
// for on/off, the topics to watch, and how to read a state or availability message.
// Protocol facts: docs/protocols.md §1 (Tasmota, Shelly Gen1, Shelly Gen2+, ESPHome).
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "drivers/mqtt/link.hpp"  // Outgoing

namespace drivers::mqtt {

enum class RelayProtocol { tasmota, shelly_gen1, shelly_gen2, esphome, generic };
std::optional<RelayProtocol> parse_protocol(const std::string& s);
const char* protocol_name(RelayProtocol p);

struct RelayConfig {
  std::string id;  // shackd's name for it: "primary_s21"
  RelayProtocol protocol = RelayProtocol::tasmota;
  std::string topic;  // Tasmota %topic%; Shelly Gen1 id; Shelly Gen2 topic prefix; ESPHome node prefix
  std::string full_topic = "%prefix%/%topic%/";  // Tasmota FullTopic
  int channel = 1;        // Tasmota POWER<n> (1-based); Shelly relay/switch id (0-based)
  std::string object_id;  // ESPHome switch object id
  // generic
  std::string command_topic, state_topic, availability_topic;
  std::string payload_on = "ON", payload_off = "OFF";
  std::string state_on = "ON", state_off = "OFF";
  std::string available = "online", not_available = "offline";
  // Dead-man: each ON arms the device's own auto-off for this long (Tasmota PulseTime,
  // Shelly Gen2 toggle_after), so loads fall off by themselves if shackd dies. 0: off.
  std::chrono::seconds dead_man{0};
  std::string rpc_src = "shackd";  // Shelly Gen2: our src; replies come on <src>/rpc
  // Fan speed, where the device offers it: Tasmota `Dimmer` (0..100); generic: a topic that
  // takes the percentage.
  bool speed_dimmer = false;
  std::string speed_topic;
  bool operator==(const RelayConfig&) const = default;
};

// The relays as their manager holds them: each config made once, immutable, shared with whoever
// keeps one past the manager (a cycle's record: daemon/core/cycle_record.hpp; a reload replaces
// the manager while the record lives on).
using SharedRelayConfigs = std::vector<std::shared_ptr<const RelayConfig>>;
SharedRelayConfigs share_relays(std::vector<RelayConfig> relays);

// Empty when usable; else what is wrong, naming the relay and the field.
std::vector<std::string> validate_relay(const RelayConfig& r);

// Tasmota: the FullTopic with %prefix% ("cmnd", "stat", "tele") and %topic% filled in, ending in '/'.
std::string tasmota_base(const RelayConfig& r, const char* prefix);

std::vector<Outgoing> relay_command(const RelayConfig& r, bool on, int rpc_id);
// Shelly Gen2: the id of a Switch.Set request, which the device echoes in its reply: the sequence
// number, the switch (0..63) and the commanded state, so that the reply alone confirms it.
long long shelly_rpc_id(int sequence, int channel, bool on);
std::optional<Outgoing> speed_command(const RelayConfig& r, int percent);
std::vector<std::string> relay_subscriptions(const RelayConfig& r);

struct Observation {
  std::optional<bool> on;
  std::optional<bool> available;
  // Seconds since the device started, where its protocol says it (Tasmota's UptimeSec in its
  // STATE, Shelly Gen2's sys.uptime): a start later than shackd last knew of means the device,
  // and the load behind its relay, lost power in between (issue 56).
  std::optional<std::int64_t> uptime_s;
  // What the load draws, where the relay meters it (Tasmota ENERGY.Power, Shelly apower or
  // relay/<n>/power), in W.
  std::optional<double> power_w;
};
// The question that makes the device say its state and its uptime at once (Tasmota's `State`,
// Shelly Gen2's Shelly.GetStatus); nullopt for a protocol that has none (Shelly Gen1, ESPHome,
// generic: drivers/mqtt/relays.hpp judges those by their state alone).
std::optional<Outgoing> state_query(const RelayConfig& r, int sequence);
bool reports_uptime(const RelayConfig& r);
// Shelly Gen2: the id of our Shelly.GetStatus, beside Switch.Set's (shelly_rpc_id) and the
// power-on calls' (power_on.hpp): call 3 in bits 5-6, the switch in bits 1-4.
long long shelly_status_rpc_id(int sequence, int channel);

// nullopt: the topic is not this relay's, or carries nothing about its state.
std::optional<Observation> parse_relay_message(const RelayConfig& r, const std::string& topic,
                                               const std::string& payload);

}  // namespace drivers::mqtt
