#pragma once
// The YAML config, parsed once into typed structs. Every error names its YAML path and
// line:column; all of them are listed at once. Unknown keys, duplicate keys, wrong types,
// out-of-range values and references to undefined relays or sensors are errors.
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "daemon/config/ac_sources.hpp"
#include "daemon/system/host_health.hpp"
#include "drivers/device_kind.hpp"
#include "drivers/kinds.hpp"
#include "drivers/miners/miner_kind.hpp"
#include "drivers/modbus_link.hpp"
#include "drivers/mqtt/client.hpp"
#include "drivers/mqtt/relay_protocol.hpp"
#include "drivers/mqtt/relays.hpp"
#include "drivers/mqtt/sensors.hpp"

namespace shackd {

struct MqttConfig {
  std::string uri = "tcp://127.0.0.1:1883";
  std::string client_id = "shackd";
  std::string username;
  std::string password_file;
  std::string ca_file, cert_file, key_file;
  std::string prefix = "shack";
  std::chrono::seconds keepalive{30};
  bool discovery = true;
  std::string discovery_prefix = "homeassistant";
  // Each miner's settable fields (the miner schema's over_mqtt()) set over MQTT (<prefix>/load/<id>/<field>/set)
  // and offered to Home Assistant as number entities; one the profiles: section gives stays its.
  bool allow_settings = false;
  bool operator==(const MqttConfig&) const = default;
};

// metrics: the Prometheus endpoint (daemon/metrics/server.hpp). Off unless `listen` is given.
struct MetricsConfig {
  bool enabled = false;
  std::string host = "127.0.0.1";
  int port = 9466;  // 0: any free port, said in the log
  std::string token_file;  // its first line: the bearer token a scraper must send; empty: none
  bool operator==(const MetricsConfig&) const = default;
};

// uplink: the topics a bridge to a central broker carries (daemon/vocab/uplink.hpp). Off unless
// the section is there.
struct UplinkConfig {
  bool enabled = false;
  std::chrono::seconds state_interval{60};  // <prefix>/site/<id>/state: 1440 a day at 60 s
  // The bridge's name on $SYS (its mosquitto `connection`); empty: shackd-<site id>, as
  // contrib/mosquitto/shackd-uplink.conf names it. Another name's state is not taken.
  std::string bridge;
  bool operator==(const UplinkConfig&) const = default;
};

enum class ShutdownPolicy { leave, miners_off };

struct Config {
  std::string source;  // file path, for messages
  std::string sha256;
  std::string site_name = "Solar Shack";
  // site.id: the site's id in the uplink's topics, its events and its metrics; empty: the id fixed
  // in the database at the first start (site_identity), which Home Assistant's ids keep either way.
  std::string site_id;
  std::string database_path = "/var/lib/shackd/shackd.db";
  int telemetry_days = 30;
  int events_days = 90;
  int journal_days = 7;  // the cycle journal `replay` reads (about 5 MB a day at 2 s cycles); 0: none
  std::chrono::milliseconds interval{2000};
  bool dry_run = false;
  // loop.shadow (issue 60): beside another controller. Decides as ever, commands nothing (no relay
  // command or question, no Modbus write, no miner API, no power-on setting) and records where its
  // decisions and the relays' reported states differ. Implies dry_run (every guard it has).
  bool shadow = false;
  // loop.candidate (issue 60, part 2): profile changes tried beside the ones in force, as `replay
  // --set` takes them ("miners.Primary S21+.start_voltage=53"). Decided every cycle on the same
  // inputs, never actuated; where they differ: table candidate_differences, <prefix>/candidate/<id>.
  std::vector<std::string> candidate;
  // The devices: the enabled ones, each of a kind the config knows (drivers/kinds.hpp), in the
  // kinds' order.
  std::vector<drivers::DeviceSettings> devices;
  // What `check` and the start say about the devices: section (a section in the old form).
  std::vector<std::string> device_warnings;
  MqttConfig mqtt;
  MetricsConfig metrics;
  UplinkConfig uplink;
  HostConfig host;  // host: the controller's own health (daemon/system/host_health.hpp)
  std::vector<drivers::mqtt::RelayConfig> relays;
  drivers::mqtt::RelayTiming relay_timing;
  std::vector<drivers::mqtt::SensorConfig> sensors;
  // miners: each miner's own API, by its relay id (daemon/config/miners_yaml.hpp).
  std::vector<drivers::miners::MinerConfig> miners;
  std::vector<std::string> pv_readings;    // summed into the snapshot's PV
  std::vector<std::string> load_readings;  // summed into the snapshot's load
  // The battery's voltage and temperature sources, in the owner's order of preference.
  std::vector<std::string> battery_v_readings;
  std::vector<std::string> battery_temp_readings;
  // ac_sources: in the file's order; empty: one unrated source (daemon/config/ac_sources.hpp).
  std::vector<AcSourceConfig> ac_sources;
  ShutdownPolicy shutdown_policy = ShutdownPolicy::leave;
  // safety.charge_block_action: the charge limits held at 0 A while the rules block charging (a
  // cold battery), by their words ("dvcc", "solark"); none: the block is an alarm only.
  std::set<std::string> charge_block_action;
  std::optional<YAML::Node> profiles;  // the `profiles:` section, applied to the database (daemon/profiles_apply)
  std::string text;     // the file as read
};

struct ConfigResult {
  std::optional<Config> config;
  std::vector<std::string> errors;
  // The profiles: section whenever the file parsed, so that `check` lists its errors along with
  // the rest of the file's, all in one run.
  std::optional<YAML::Node> profiles;
};

// `kinds`: the device kinds its devices: sections may name (a test adds its own).
ConfigResult parse_config(const std::string& text, const std::string& source,
                          drivers::Kinds kinds = drivers::builtin_kinds());
ConfigResult load_config(const std::string& path, drivers::Kinds kinds = drivers::builtin_kinds());

// References from the effective profiles to relays and sensors the config defines.
// A short-lived MQTT client of the site's broker beside shackd's own (`status`, `once`): the
// same URI and credentials, its own client id and status topic, so that its will never says
// shackd is offline.
drivers::mqtt::ClientConfig side_client_config(const MqttConfig& m, const std::string& role);

// A disabled load needs no relay; two enabled loads cannot share one.
std::vector<std::string> check_references(const Config& c, const struct StoredProfiles& p);
// Files the config names (password, CA, certificate, key, the database's directory): each one
// missing or unreadable is one message naming the key and the path.
std::vector<std::string> check_files(const Config& c);
// The ids under relays:.
std::set<std::string> relay_ids(const Config& c);
// What `check` warns about in the charge block: a charger on the bank that it does not stop.
std::vector<std::string> charge_block_warnings(const Config& c);
// ssl:// to an IP address: the broker's certificate must name that address (shackd verifies the
// host name), which certificates made for a host name do not.
std::vector<std::string> tls_warnings(const Config& c);
// Relays the config defines that no profile switches (a warning: a typo, or a load not listed).
std::vector<std::string> unused_relays(const Config& c, const struct StoredProfiles& p);

}  // namespace shackd
