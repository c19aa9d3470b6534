#include "daemon/config/config.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "daemon/config/config_keys.hpp"
#include "daemon/config/devices_yaml.hpp"
#include "daemon/config/field_reader.hpp"
#include "daemon/config/miners_yaml.hpp"
#include "daemon/config/profiles_yaml.hpp"
#include "daemon/config/yaml_read.hpp"
#include "daemon/config/metrics_listen.hpp"
#include "daemon/site/profiles.hpp"
#include "daemon/text/sha256.hpp"
#include "rules/validate.hpp"
#include "daemon/system/access.hpp"

namespace shackd {

namespace {

using yaml::Errors;
using yaml::Reader;

// relays: and sensors: are maps of ids, each read by its table (daemon/config/config_keys.cpp),
// then checked as a whole.
void parse_relays(const YAML::Node& node, const std::string& path, config_keys::Context& ctx,
                  std::vector<drivers::mqtt::RelayConfig>& out) {
  for (const auto& [id, v] : yaml::id_entries(node, path, "relay", ctx.r.e)) {
    const std::string p = path + "." + id;
    drivers::mqtt::RelayConfig rc;
    rc.id = id;
    config_keys::read(v, p, config_keys::relay_keys(), ctx, rc);
    const YAML::Node protocol = v.IsMap() ? v["protocol"] : YAML::Node();
    if (!protocol || !protocol.IsScalar() || protocol.Scalar().empty()) ctx.r.e.add(p, v, "protocol is required");
    if ((rc.protocol == drivers::mqtt::RelayProtocol::shelly_gen1 ||
         rc.protocol == drivers::mqtt::RelayProtocol::shelly_gen2) && !v["channel"]) {
      rc.channel = 0;  // Shelly counts from 0
    }
    for (const auto& problem : drivers::mqtt::validate_relay(rc)) ctx.r.e.add(p, v, problem);
    out.push_back(rc);
  }
}

void parse_sensors(const YAML::Node& node, const std::string& path, config_keys::Context& ctx,
                   std::vector<drivers::mqtt::SensorConfig>& out) {
  for (const auto& [id, v] : yaml::id_entries(node, path, "sensor", ctx.r.e)) {
    const std::string p = path + "." + id;
    drivers::mqtt::SensorConfig s;
    s.id = id;
    config_keys::read(v, p, config_keys::sensor_keys(), ctx, s);
    for (const auto& problem : drivers::mqtt::validate_sensor(s)) ctx.r.e.add(p, v, problem);
    out.push_back(s);
  }
}

// ac_sources: a map of ids, each read by its table; none: one unrated source (rules::AcSource{}).
void parse_ac_sources(const YAML::Node& node, const std::string& path, config_keys::Context& ctx,
                      std::vector<AcSourceConfig>& out) {
  for (const auto& [id, v] : yaml::id_entries(node, path, "AC source", ctx.r.e)) {
    const std::string p = path + "." + id;
    AcSourceConfig a;
    a.id = id;
    a.rating.name = id;
    config_keys::read(v, p, config_keys::ac_source_keys(), ctx, a);
    // The rules' checks of a source, as errors of this entry (the profiles' feeds come later).
    rules::Profiles alone;
    alone.miners.clear();
    alone.zones.clear();
    alone.ac_sources = {a.rating};
    const std::string prefix = "ac source '" + id + "': ";
    for (const auto& problem : rules::validate(alone)) {
      ctx.r.e.add(p, v, problem.rfind(prefix, 0) == 0 ? problem.substr(prefix.size()) : problem);
    }
    for (std::size_t k = a.rating.phases; k < 3; ++k) {
      if (!a.load_w[k].empty() || !a.overload_phase[k].empty()) {
        ctx.r.e.add(p, v, fmt::format("names readings for L{}, but phases is {}", k + 1, a.rating.phases));
      }
    }
    out.push_back(a);
  }
}

// "profiles.miners[1].relay_id (line 40:17) (miner 'X')" when the config gives that profile,
// else "profiles: miner 'X'": a profile the database holds has no line.
std::string profile_where(const YAML::Node& section, const std::string& kind, const std::string& name,
                          const std::string& field) {
  const auto at = profile_key_where(section, "profiles", kind, name, field);
  return at ? fmt::format("{} ({} '{}')", *at, kind, name) : fmt::format("profiles: {} '{}'", kind, name);
}

// "; did you mean heat_room_fan?" for a near miss among the ids the config defines.
std::string suggest(const std::string& id, const std::set<std::string>& known) {
  const auto best = yaml::nearest(id, std::vector<std::string>(known.begin(), known.end()));
  return best ? fmt::format(" (did you mean {}?)", *best) : std::string();
}

}  // namespace

ConfigResult parse_config(const std::string& text, const std::string& source, drivers::Kinds kinds) {
  Errors e;
  Reader r{e};
  ConfigResult result;
  const auto root = yaml::parse(text, source, e);
  if (!root) {
    result.errors = e.list();
    return result;
  }
  Config c;
  c.source = source;
  c.text = text;
  c.sha256 = sha256_hex(text);
  if (!root->IsMap()) {
    e.add(source, *root, "expected a map of sections (site, database, loop, devices, mqtt, relays, ...)");
    result.errors = e.list();
    return result;
  }
  bool has_relays = false;
  config_keys::Context ctx{r, kinds};
  for (const auto& [section, node] : yaml::entries(*root, "", config_keys::section_names(), e)) {
    if (section == "site") {
      config_keys::read(node, "site", config_keys::site_keys(), ctx, c);
    } else if (section == "uplink") {
      c.uplink.enabled = true;
      config_keys::read(node, "uplink", config_keys::uplink_keys(), ctx, c.uplink);
    } else if (section == "database") {
      config_keys::read(node, "database", config_keys::database_keys(), ctx, c);
    } else if (section == "loop") {
      config_keys::read(node, "loop", config_keys::loop_keys(), ctx, c);
    } else if (section == "devices") {
      parse_devices(node, r, kinds, c.devices, c.device_warnings);
    } else if (section == "mqtt") {
      config_keys::read(node, "mqtt", config_keys::mqtt_keys(), ctx, c.mqtt);
    } else if (section == "relays") {
      has_relays = true;
      parse_relays(node, "relays", ctx, c.relays);
    } else if (section == "relay_timing") {
      config_keys::read(node, "relay_timing", config_keys::relay_timing_keys(), ctx, c.relay_timing);
    } else if (section == "sensors") {
      parse_sensors(node, "sensors", ctx, c.sensors);
    } else if (section == "miners") {
      parse_miners(node, r, c.miners);
    } else if (section == "metrics") {
      config_keys::read(node, "metrics", config_keys::metrics_keys(), ctx, c.metrics);
      if (!c.metrics.token_file.empty() && !c.metrics.enabled) {
        e.add("metrics.token_file", node, "is set but metrics.listen is not: the endpoint is off without an address");
      }
      // Every address of the machine, without a token: anyone on the site's networks (a guest
      // Wi-Fi, a neighbour's radio link) reads the site's figures (issue 48: taken without a word).
      const bool wildcard = c.metrics.host == "0.0.0.0" || c.metrics.host == "::" || c.metrics.host.empty();
      if (c.metrics.enabled && wildcard && c.metrics.token_file.empty()) {
        c.device_warnings.push_back(fmt::format(
            "metrics.listen {}:{} serves the site's figures on every network this machine is on, to anyone: set "
            "metrics.token_file, or listen on 127.0.0.1 or one address (a VPN's)",
            c.metrics.host.find(':') != std::string::npos ? "[" + c.metrics.host + "]" : c.metrics.host, c.metrics.port));
      }
    } else if (section == "ac_sources") {
      parse_ac_sources(node, "ac_sources", ctx, c.ac_sources);
    } else if (section == "host") {
      config_keys::read(node, "host", config_keys::host_keys(), ctx, c.host);
    } else if (section == "readings") {
      config_keys::read(node, "readings", config_keys::readings_keys(), ctx, c);
    } else if (section == "profiles") {
      c.profiles = node;
      result.profiles = node;
    } else if (section == "safety") {
      config_keys::read(node, "safety", config_keys::safety_keys(), ctx, c);
    }
  }
  if (!has_relays) e.add(source + ": relays: the section is missing; shackd switches loads through it");
  for (const auto& m : c.miners) {
    bool found = false;
    for (const auto& rc : c.relays) found = found || rc.id == m.load_id;
    if (!found && has_relays) {
      e.add(fmt::format("{}: miners.{}: no relay {} under relays: (a miner's API goes by the relay id of its profile)",
                        source, m.load_id, m.load_id));
    }
  }
  finish_devices(c, kinds, e);
  result.errors = e.list();
  if (result.errors.empty()) result.config = std::move(c);
  return result;
}

std::vector<std::string> tls_warnings(const Config& c) {
  const std::string& uri = c.mqtt.uri;
  if (uri.rfind("ssl://", 0) != 0) return {};
  std::string host = uri.substr(6);
  if (!host.empty() && host.front() == '[') {
    host = host.substr(1, host.find(']') == std::string::npos ? std::string::npos : host.find(']') - 1);
  } else if (const auto colon = host.rfind(':'); colon != std::string::npos) {
    host = host.substr(0, colon);
  }
  const bool ipv4 = !host.empty() && host.find_first_not_of("0123456789.") == std::string::npos;
  const bool ipv6 = host.find(':') != std::string::npos;
  if (!ipv4 && !ipv6) return {};
  return {fmt::format("mqtt.uri connects to the IP address {}: shackd checks that the broker's certificate names "
                      "the host it connects to, so the certificate needs subjectAltName IP:{} (one made for a host "
                      "name only is refused); or connect by the name the certificate gives",
                      host, host)};
}

ConfigResult load_config(const std::string& path, drivers::Kinds kinds) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return {std::nullopt, {fmt::format("{}: is a directory, not a config file (give the YAML file's path)", path)},
            std::nullopt};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const std::string denied = permission_problem(path);
    const bool exists = std::filesystem::exists(path, ec);
    return {std::nullopt,
            {fmt::format("{}: cannot read the config file: {}", path,
                         !denied.empty() ? denied : exists ? "it cannot be opened" : "no such file")},
            std::nullopt};
  }
  std::stringstream s;
  s << in.rdbuf();
  return parse_config(s.str(), path, kinds);
}

std::vector<std::string> check_references(const Config& c, const StoredProfiles& p) {
  std::vector<std::string> errors;
  std::set<std::string> relays, sensors;
  std::map<std::string, std::string> used;  // relay id -> the enabled load that switches it
  for (const auto& r : c.relays) relays.insert(r.id);
  for (const auto& s : c.sensors) sensors.insert(s.id);
  const YAML::Node section = c.profiles ? *c.profiles : YAML::Node();
  // Profiles the config does not give come from the database: say so, since the owner never wrote them.
  const std::string origin =
      c.profiles ? ""
                 : " (this profile is in the database, not in the config: list your own loads under profiles:, which "
                   "replaces the database's set; see config/examples/)";
  // A disabled load needs no relay; an enabled one needs its own.
  const auto relay = [&](const std::string& kind, const std::string& name, bool enabled, const std::string& field,
                         const std::string& id) {
    if (id.empty() || !enabled) return;
    const std::string who = profile_where(section, kind, name, field);
    const std::string load = fmt::format("{} '{}'", kind, name);
    if (const auto [it, fresh] = used.emplace(id, load); !fresh) {
      errors.push_back(fmt::format("{}: {} '{}' is already switched by {}: two enabled loads cannot share a relay",
                                   who, field, id, it->second));
    }
    if (!relays.count(id)) {
      errors.push_back(fmt::format("{}: {} '{}' is not defined under relays:{}{}", who, field, id,
                                   suggest(id, relays), origin));
    }
  };
  for (std::size_t i = 0; i < p.rules.miners.size(); ++i) {
    const auto& m = p.rules.miners[i];
    if (p.miners[i].relay_id.empty() && m.enabled) {
      errors.push_back(profile_where(section, "miner", m.name, "relay_id") +
                       ": relay_id is empty: an enabled miner needs a relay (or set enabled: false)");
    }
    relay("miner", m.name, m.enabled, "relay_id", p.miners[i].relay_id);
  }
  for (std::size_t i = 0; i < p.rules.zones.size(); ++i) {
    const auto& z = p.rules.zones[i];
    if (p.zones[i].exhaust_fan_relay) relay("zone", z.name, z.enabled, "exhaust_fan_relay", *p.zones[i].exhaust_fan_relay);
    if (p.zones[i].heater_relay) relay("zone", z.name, z.enabled, "heater_relay", *p.zones[i].heater_relay);
    // A sensor id with a dot names a Modbus reading instead ("temp.temp_c", a GX temperature service).
    // A disabled zone reads its sensor only for a cold-charge limit.
    const auto& sid = p.zones[i].sensor_id;
    const bool reads_sensor = z.enabled || z.block_charging_below_c.has_value();
    if (reads_sensor && !sid.empty() && sid.find('.') == std::string::npos && !sensors.count(sid)) {
      errors.push_back(fmt::format("{}: sensor_id '{}' is not defined under sensors:{}{}",
                                   profile_where(section, "zone", z.name, "sensor_id"), sid, suggest(sid, sensors),
                                   origin));
    }
  }
  // Each load's AC source and phase, and the rules' budget checks with them (issue 59).
  {
    StoredProfiles fed = p;
    apply_miner_targets(c.miners, fed);
    for (const auto& problem : apply_ac_sources(c, fed)) errors.push_back("profiles: " + problem);
  }
  // A power target follows the solar surplus: its miner's profile must run on one.
  for (const auto& mc : c.miners) {
    if (!mc.target) continue;
    for (std::size_t i = 0; i < p.rules.miners.size(); ++i) {
      const auto& m = p.rules.miners[i];
      if (p.miners[i].relay_id != mc.load_id) continue;
      if (!m.require_excess_solar && m.mode != rules::OperatingMode::opportunistic) {
        errors.push_back(fmt::format("{}: miners.{}.target: a power target follows the solar surplus; set "
                                     "require_excess_solar: true in miner '{}' (or mode: opportunistic)",
                                     c.source, mc.load_id, m.name));
      }
    }
  }
  return errors;
}

drivers::mqtt::ClientConfig side_client_config(const MqttConfig& m, const std::string& role) {
  drivers::mqtt::ClientConfig c;
  c.uri = m.uri;
  c.client_id = m.client_id + "-" + role;
  c.username = m.username;
  c.password_file = m.password_file;
  c.ca_file = m.ca_file;
  c.cert_file = m.cert_file;
  c.key_file = m.key_file;
  // No will and no online/offline of its own: a command that connects for a moment leaves
  // nothing retained on the broker (shack/status is shackd's alone).
  c.status_topic.clear();
  return c;
}

std::vector<std::string> check_files(const Config& c) {
  std::vector<std::string> errors;
  const auto readable = [&](const char* key, const std::string& path) {
    if (path.empty()) return;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      errors.push_back(fmt::format("{}: mqtt.{} '{}' does not exist", c.source, key, path));
    } else if (!std::ifstream(path).good()) {
      errors.push_back(fmt::format("{}: mqtt.{} '{}' cannot be read by this user (check its owner and mode)", c.source,
                                   key, path));
    } else if (std::string(key) == "password_file" && std::filesystem::is_regular_file(path, ec)) {
      std::ifstream in(path);
      std::string first;
      std::getline(in, first);
      if (first.empty()) errors.push_back(fmt::format("{}: mqtt.password_file '{}' is empty: its first line is the password", c.source, path));
    }
  };
  readable("password_file", c.mqtt.password_file);
  readable("ca_file", c.mqtt.ca_file);
  readable("cert_file", c.mqtt.cert_file);
  readable("key_file", c.mqtt.key_file);
  for (const auto& m : c.miners) {
    if (m.ca_file.empty()) continue;
    std::error_code ec;
    if (!std::filesystem::exists(m.ca_file, ec)) {
      errors.push_back(fmt::format("{}: miners.{}.ca_file '{}' does not exist", c.source, m.load_id, m.ca_file));
    } else if (!std::ifstream(m.ca_file).good()) {
      errors.push_back(fmt::format("{}: miners.{}.ca_file '{}' cannot be read by this user (check its owner and mode)",
                                   c.source, m.load_id, m.ca_file));
    }
  }
  if (!c.metrics.token_file.empty()) {
    std::error_code ec;
    if (!std::filesystem::exists(c.metrics.token_file, ec)) {
      errors.push_back(fmt::format("{}: metrics.token_file '{}' does not exist", c.source, c.metrics.token_file));
    } else if (metrics::read_token(c.metrics.token_file).value_or("").empty()) {
      errors.push_back(fmt::format("{}: metrics.token_file '{}' cannot be read by this user or its first line is empty "
                                   "(the first line is the token)", c.source, c.metrics.token_file));
    }
  }
  if (!c.mqtt.password_file.empty() && c.mqtt.username.empty()) {
    errors.push_back(fmt::format("{}: mqtt.password_file is set but mqtt.username is not: the broker needs both", c.source));
  }
  if (c.mqtt.uri.rfind("ssl://", 0) != 0 && !c.mqtt.ca_file.empty()) {
    errors.push_back(fmt::format("{}: mqtt.ca_file is set but mqtt.uri '{}' is not ssl://: the CA would not be used",
                                 c.source, c.mqtt.uri));
  }
  // The database's directory must exist: shackd creates the file, never the directories above it
  // (systemd's StateDirectory= makes /var/lib/shackd).
  if (c.database_path != ":memory:") {
    const std::filesystem::path dir = std::filesystem::path(c.database_path).parent_path();
    std::error_code ec;
    if (!dir.empty() && !std::filesystem::is_directory(dir, ec)) {
      errors.push_back(fmt::format("{}: database.path '{}': the directory {} does not exist", c.source,
                                   c.database_path, dir.string()));
    } else if (::access(dir.empty() ? "." : dir.c_str(), W_OK | X_OK) != 0 && errno == EACCES) {
      // This user (the service's, at its start) cannot create the database or its -wal and -shm.
      errors.push_back(fmt::format("{}: database.path '{}': {}", c.source, c.database_path,
                                   permission_problem(dir.empty() ? "." : dir.string(), true)));
    }
  }
  return errors;
}

std::set<std::string> relay_ids(const Config& c) {
  std::set<std::string> out;
  for (const auto& r : c.relays) out.insert(r.id);
  return out;
}

std::vector<std::string> unused_relays(const Config& c, const StoredProfiles& p) {
  std::set<std::string> used;
  for (std::size_t i = 0; i < p.miners.size(); ++i) used.insert(p.miners[i].relay_id);
  for (const auto& z : p.zones) {
    if (z.exhaust_fan_relay) used.insert(*z.exhaust_fan_relay);
    if (z.heater_relay) used.insert(*z.heater_relay);
  }
  std::vector<std::string> out;
  for (const auto& r : c.relays) {
    if (!used.count(r.id)) out.push_back(r.id);
  }
  return out;
}

}  // namespace shackd
