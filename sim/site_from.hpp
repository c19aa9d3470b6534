#pragma once
// shackd-sim --site-from: an owner's own site, from their shackd config, served on loopback
// before it goes live. The simulator serves each of their devices (their kinds, their unit ids)
// and each miner's API, answers each relay in its own protocol and publishes each sensor in its
// own format, on their broker with their credentials. It writes a trial config for `shackd run`:
// the owner's file with the devices and miners at the simulator's ports and with everything that
// could touch the live site moved aside (docs/guide.md, "Try your site first").
#include <map>
#include <string>

#include "daemon/config/config.hpp"

namespace sim {

struct OwnerSite {
  shackd::Config config;
  // What each relay's load draws, by relay id: the profiles' power_w (a miner) or heater_power_w
  // (a heater) where the config's profiles: section gives one, else kDefaultLoadW.
  std::map<std::string, double> load_w;
};
inline constexpr double kDefaultLoadW = 1000;

// Throws std::runtime_error listing every error the config has, as `shackd check` would.
OwnerSite read_owner_site(const std::string& path);

// Where the simulator serves the owner's devices and miners' APIs, by their names in the config.
struct ServedAt {
  std::string bind = "127.0.0.1";
  std::map<std::string, int> device_ports;  // devices.<name>
  std::map<std::string, int> miner_ports;   // miners.<relay id>
};

// Relay and sensor topics of the trial config: the owner's under this first level (a Shelly Gen1,
// whose topics always start with shellies/, by its id: shellies/shackd-try-<id>), so that a trial
// never switches a real relay nor reads a real sensor, even on the live site's broker, and one
// ACL line admits it (docs/guide.md).
inline constexpr const char* kTrialTopicPrefix = "shackd-try";

// The trial config's text, from the owner's file: each device at its port on loopback over TCP
// (an RS485 device too), each miner's API at its port with the simulator's password, relay and
// sensor topics under kTrialTopicPrefix (Tasmota by its FullTopic; a Shelly Gen2 still answers on
// shackd/rpc, where a live shackd tells the trial's replies apart by their src), its own database `db_path`, its own MQTT client id and
// topic prefix (<client_id>-try, <prefix>-try), and no Home Assistant discovery. Everything else
// (profiles, readings, safety, the broker and its credentials) is the owner's.
std::string trial_config_text(const std::string& owner_text, const std::string& owner_path, const ServedAt& at,
                              const std::string& db_path);

}  // namespace sim
