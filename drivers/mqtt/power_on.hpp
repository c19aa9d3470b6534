#pragma once
// How a relay comes back after a power cut, where its protocol lets shackd ask (docs/protocols.md
// §1.6): Tasmota's `PowerOnState`, a Shelly Gen2+ switch's `initial_state`. After a site-wide
// cut (the inverter stopped on a low battery; the GX and the Pi reboot with it) a relay that
// powers up ON runs its miner at full draw on an empty bank before shackd is even up. Pure
// functions: the topics and payloads, and what an answer says.
#include <optional>
#include <string>
#include <vector>

#include "drivers/mqtt/relay_protocol.hpp"

namespace drivers::mqtt {

// What a setting means for the load behind the relay when the power comes back.
enum class PowerOnRisk {
  off,            // stays off until commanded
  on,             // comes back ON by itself (always, or as it was, or toggled, or after a delay)
  follows_input,  // follows its wall switch: ON when the switch is
  unknown,        // a value no public document names
};

struct PowerOnState {
  std::string setting;  // as the device says it: "3", "restore_last"
  PowerOnRisk risk = PowerOnRisk::unknown;
  std::string words;    // what it does, for people: "the state it had before the cut"
  bool operator==(const PowerOnState&) const = default;
};

// Tasmota PowerOnState 0-5 (Tasmota docs, "PowerOnState"; support_command.ino CmndPowerOnState).
PowerOnState tasmota_power_on(int value);
// Shelly Gen2+ Switch initial_state: off, on, restore_last, match_input (Shelly Gen2 API docs,
// Switch component, configuration).
PowerOnState shelly_initial_state(const std::string& value);

// Empty when shackd can read and set the relay's power-on behaviour over MQTT; otherwise why not,
// and what the owner sets by hand instead (Shelly Gen1: HTTP only; ESPHome: compiled in).
std::string power_on_unreadable(const RelayConfig& r);
// The setting that makes the load stay off after a cut, in the device's own words ("0", "off").
std::string power_on_off_setting(const RelayConfig& r);

// The request that asks for the setting; `sequence` numbers a Shelly RPC (shelly_config_rpc_id).
std::optional<Outgoing> power_on_query(const RelayConfig& r, int sequence);
// The request that sets it to stay off at power-on.
std::optional<Outgoing> power_on_set_off(const RelayConfig& r, int sequence);
// Topics its answers come on (beyond relay_subscriptions(): Tasmota with SetOption4 answers on
// stat/<t>/POWERONSTATE instead of RESULT).
std::vector<std::string> power_on_subscriptions(const RelayConfig& r);

// Shelly Gen2 RPC ids: a Switch.Set is seq*128 + switch*2 + on (shelly_rpc_id); a configuration
// request sets bit 5 (GetConfig) or bit 6 (SetConfig), which no Switch.Set id has (switches are
// 0..15), so that neither reply is ever taken for the other.
enum class ShellyConfigCall { get = 1, set = 2 };
long long shelly_config_rpc_id(int sequence, int channel, ShellyConfigCall call);

// What an answer says: the setting in force, or that a set was taken (a Shelly's SetConfig
// result), or the device's refusal.
struct PowerOnAnswer {
  std::optional<PowerOnState> state;
  bool set_taken = false;
  std::string refused;   // the device's error, as it gave it
  bool changed = false;  // a Shelly says the switch's configuration changed (someone set it): ask again
};
// nullopt: not an answer about this relay's power-on behaviour.
std::optional<PowerOnAnswer> parse_power_on(const RelayConfig& r, const std::string& topic, const std::string& payload);

}  // namespace drivers::mqtt
