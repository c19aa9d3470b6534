#include "daemon/config/config.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "daemon/config/profiles_yaml.hpp"
#include "daemon/config/yaml_read.hpp"
#include "daemon/site/profiles.hpp"
#include "daemon/store/sha256.hpp"
#include "drivers/solark.hpp"
#include "drivers/victron_gx.hpp"

namespace shackd {

namespace {

using yaml::Errors;

// Typed field readers that leave the target untouched on error (the error is recorded).
struct Reader {
  Errors& e;
  void text(const YAML::Node& n, const std::string& p, std::string& out) {
    if (auto v = yaml::text(n, p, e)) out = *v;
  }
  void boolean(const YAML::Node& n, const std::string& p, bool& out) {
    if (auto v = yaml::boolean(n, p, e)) out = *v;
  }
  bool integer(const YAML::Node& n, const std::string& p, long long min, long long max, long long& out) {
    auto v = yaml::integer(n, p, e);
    if (!v) return false;
    if (*v < min || *v > max) {
      e.add(p, n, fmt::format("{} is out of range: must be {} to {}", *v, min, max));
      return false;
    }
    out = *v;
    return true;
  }
  template <typename T>
  void integer_as(const YAML::Node& n, const std::string& p, long long min, long long max, T& out) {
    long long v = 0;
    if (integer(n, p, min, max, v)) out = static_cast<T>(v);
  }
  void ms(const YAML::Node& n, const std::string& p, long long min, long long max, std::chrono::milliseconds& out) {
    long long v = 0;
    if (integer(n, p, min, max, v)) out = std::chrono::milliseconds(v);
  }
  void secs(const YAML::Node& n, const std::string& p, long long min, long long max, std::chrono::seconds& out) {
    long long v = 0;
    if (integer(n, p, min, max, v)) out = std::chrono::seconds(v);
  }
  void opt_unit(const YAML::Node& n, const std::string& p, std::optional<int>& out) {
    if (yaml::is_null(n)) {
      out.reset();
      return;
    }
    long long v = 0;
    if (integer(n, p, 0, 247, v)) out = static_cast<int>(v);
  }
  void strings(const YAML::Node& n, const std::string& p, std::vector<std::string>& out) {
    if (!n.IsSequence()) {
      e.add(p, n, "expected a list");
      return;
    }
    out.clear();
    for (std::size_t i = 0; i < n.size(); ++i) {
      if (auto v = yaml::text(n[i], fmt::format("{}[{}]", p, i), e)) out.push_back(*v);
    }
  }
};

// safety.charge_block_action: alarm | dvcc | solark, or a list of dvcc and solark.
void parse_charge_block(const YAML::Node& v, Reader& r, ChargeBlockAction& out) {
  const std::string p = "safety.charge_block_action";
  std::vector<std::string> names;
  if (v.IsSequence()) {
    r.strings(v, p, names);
  } else {
    std::string s;
    r.text(v, p, s);
    if (!s.empty()) names.push_back(s);
  }
  out = {};
  for (const auto& n : names) {
    if (n == "dvcc") out.dvcc = true;
    else if (n == "solark") out.solark = true;
    else if (n == "alarm" && names.size() == 1) continue;
    else r.e.add(p, v, fmt::format("'{}' must be alarm, dvcc, solark or a list of dvcc and solark", n));
  }
}

void read_tcp(Reader& r, const std::string& key, const YAML::Node& v, const std::string& p, drivers::TcpTransport& t) {
  if (key == "host") r.text(v, p, t.host);
  if (key == "port") r.integer_as(v, p, 1, 65535, t.port);
}

// Why `name` is not a reading this config's devices give, or nullopt if it is.
std::optional<std::string> unknown_reading(const Config& c, const std::string& name) {
  const auto dot = name.find('.');
  if (dot == std::string::npos) return "is not <unit>.<reading> (for example battery.battery_v)";
  const std::string unit = name.substr(0, dot), field = name.substr(dot + 1);
  if (unit == "sensor") {
    for (const auto& s : c.sensors) {
      if (s.id == field) return std::nullopt;
    }
    return "names no sensor in the sensors: section";
  }
  const drivers::Table* t = nullptr;
  if (c.victron.enabled && unit == "system") t = &drivers::victron::system_table();
  if (c.victron.enabled && c.victron.battery_unit && unit == "battery") t = &drivers::victron::battery_table();
  if (c.victron.enabled && c.victron.temperature_unit && unit == "temp") t = &drivers::victron::temperature_table();
  if (c.victron.enabled && unit.starts_with("charger") && unit.size() > 7) {
    const std::string n = unit.substr(7);
    // At most three digits, so the number cannot overflow (charger units are <= 247).
    if (n.size() <= 3 && n.find_first_not_of("0123456789") == std::string::npos && std::stoul(n) >= 1 &&
        std::stoul(n) <= c.victron.charger_units.size()) {
      t = &drivers::victron::solarcharger_table();
    }
  }
  if (c.solark.enabled && unit == "solark") t = &drivers::solark::table();
  if (!t) return "names no configured device unit (system, battery, temp, charger<N>, solark, sensor)";
  for (const auto& r : t->registers) {
    if (r.field == field) return std::nullopt;
  }
  std::string fields;
  for (const auto& r : t->registers) fields += (fields.empty() ? "" : ", ") + std::string(r.field);
  return fmt::format("is not a reading of {} (it has {})", unit, fields);
}

void parse_victron(const YAML::Node& node, const std::string& path, Reader& r, VictronConfig& c) {
  c.enabled = true;
  for (const auto& [k, v] : yaml::entries(node, path,
                                          {"enabled", "host", "port", "timeout_ms", "pacing_ms", "system_unit",
                                           "battery_unit", "charger_units", "temperature_unit"},
                                          r.e)) {
    const std::string p = path + "." + k;
    if (k == "enabled") r.boolean(v, p, c.enabled);
    read_tcp(r, k, v, p, c.tcp);
    if (k == "timeout_ms") r.ms(v, p, 50, 30000, c.timeout);
    if (k == "pacing_ms") r.ms(v, p, 0, 5000, c.pacing);
    if (k == "system_unit") r.integer_as(v, p, 0, 247, c.system_unit);
    if (k == "battery_unit") r.opt_unit(v, p, c.battery_unit);
    if (k == "temperature_unit") r.opt_unit(v, p, c.temperature_unit);
    if (k == "charger_units") {
      if (!v.IsSequence()) {
        r.e.add(p, v, "expected a list of unit ids");
        continue;
      }
      c.charger_units.clear();
      for (std::size_t i = 0; i < v.size(); ++i) {
        int u = 0;
        long long x = 0;
        if (r.integer(v[i], fmt::format("{}[{}]", p, i), 0, 247, x)) u = static_cast<int>(x), c.charger_units.push_back(u);
      }
    }
  }
}

void parse_solark(const YAML::Node& node, const std::string& path, Reader& r, SolarkConfig& c) {
  c.enabled = true;
  std::string transport = "tcp";
  drivers::TcpTransport tcp;
  drivers::RtuTransport rtu;
  for (const auto& [k, v] : yaml::entries(node, path,
                                          {"enabled", "transport", "host", "port", "device", "baud", "parity",
                                           "unit", "timeout_ms", "pacing_ms", "max_block", "max_charge_a"},
                                          r.e)) {
    const std::string p = path + "." + k;
    if (k == "enabled") r.boolean(v, p, c.enabled);
    if (k == "transport") {
      r.text(v, p, transport);
      if (transport != "tcp" && transport != "rtu") r.e.add(p, v, "must be tcp or rtu");
    }
    read_tcp(r, k, v, p, tcp);
    if (k == "device") r.text(v, p, rtu.device);
    if (k == "baud") r.integer_as(v, p, 1200, 115200, rtu.baud);
    if (k == "parity") {
      std::string s;
      r.text(v, p, s);
      if (s == "N" || s == "E" || s == "O") rtu.parity = s[0];
      else r.e.add(p, v, fmt::format("'{}' must be N, E or O", s));
    }
    if (k == "unit") r.integer_as(v, p, 1, 247, c.unit);
    if (k == "timeout_ms") r.ms(v, p, 50, 30000, c.timeout);
    if (k == "pacing_ms") r.ms(v, p, 0, 5000, c.pacing);
    if (k == "max_charge_a") {
      // 0-185 A single-phase, up to 290 A in the 16 kW profile (docs/registers.md §2.8).
      int a = 0;  // stays 0 when refused: that error is the one to show, not "required"
      r.integer_as(v, p, 1, 290, a);
      c.max_charge_a = a;
    }
    if (k == "max_block") {
      int m = 0;
      r.integer_as(v, p, 1, 125, m);
      if (m > 0) c.max_block = m;
    }
  }
  if (transport == "rtu") c.transport = rtu;
  else c.transport = tcp;
}

void parse_mqtt(const YAML::Node& node, const std::string& path, Reader& r, MqttConfig& c) {
  for (const auto& [k, v] : yaml::entries(node, path,
                                          {"uri", "client_id", "username", "password_file", "ca_file", "cert_file",
                                           "key_file", "prefix", "keepalive_s", "discovery", "discovery_prefix",
                                           "allow_settings"},
                                          r.e)) {
    const std::string p = path + "." + k;
    if (k == "uri") {
      r.text(v, p, c.uri);
      if (c.uri.rfind("tcp://", 0) != 0 && c.uri.rfind("ssl://", 0) != 0) {
        r.e.add(p, v, fmt::format("'{}' must start with tcp:// or ssl://", c.uri));
      }
    }
    if (k == "client_id") r.text(v, p, c.client_id);
    if (k == "username") r.text(v, p, c.username);
    if (k == "password_file") r.text(v, p, c.password_file);
    if (k == "ca_file") r.text(v, p, c.ca_file);
    if (k == "cert_file") r.text(v, p, c.cert_file);
    if (k == "key_file") r.text(v, p, c.key_file);
    if (k == "prefix") {
      r.text(v, p, c.prefix);
      if (c.prefix.empty() || c.prefix.find_first_of("#+") != std::string::npos || c.prefix.back() == '/') {
        r.e.add(p, v, "must be a topic without wildcards or a trailing /");
      }
    }
    if (k == "keepalive_s") r.secs(v, p, 5, 3600, c.keepalive);
    if (k == "discovery") r.boolean(v, p, c.discovery);
    if (k == "discovery_prefix") r.text(v, p, c.discovery_prefix);
    if (k == "allow_settings") r.boolean(v, p, c.allow_settings);
  }
}

const std::regex kId(R"(^[a-z0-9_]{1,40}$)");

// A map of ids (relays:, sensors:): duplicates refused, and each id topic-safe, since it becomes
// part of MQTT topics.
std::vector<std::pair<std::string, YAML::Node>> id_entries(const YAML::Node& node, const std::string& path,
                                                           const char* what, Errors& e) {
  std::vector<std::pair<std::string, YAML::Node>> out;
  if (!node.IsMap()) {
    e.add(path, node, fmt::format("expected a map of {} ids", what));
    return out;
  }
  std::vector<std::string> keys;
  for (auto it = node.begin(); it != node.end(); ++it) keys.push_back(it->first.Scalar());
  const std::vector<std::string_view> allowed(keys.begin(), keys.end());
  for (auto& [id, v] : yaml::entries(node, path, allowed, e)) {
    if (!std::regex_match(id, kId)) {
      e.add(path + "." + id, v, fmt::format("a {} id is 1-40 of a-z, 0-9 and _ (it becomes part of MQTT topics)", what));
      continue;
    }
    out.emplace_back(id, v);
  }
  return out;
}

void parse_relays(const YAML::Node& node, const std::string& path, Reader& r, std::vector<drivers::mqtt::RelayConfig>& out) {
  for (const auto& [id, v] : id_entries(node, path, "relay", r.e)) {
    const std::string p = path + "." + id;
    drivers::mqtt::RelayConfig rc;
    rc.id = id;
    std::string protocol;
    for (const auto& [k, x] : yaml::entries(v, p,
                                            {"protocol", "topic", "full_topic", "channel", "object_id",
                                             "command_topic", "state_topic", "availability_topic", "payload_on",
                                             "payload_off", "state_on", "state_off", "available", "not_available",
                                             "dead_man_s", "speed_dimmer", "speed_topic"},
                                            r.e)) {
      const std::string q = p + "." + k;
      if (k == "protocol") {
        r.text(x, q, protocol);
        if (auto pr = drivers::mqtt::parse_protocol(protocol)) rc.protocol = *pr;
        else r.e.add(q, x, fmt::format("'{}' must be tasmota, shelly_gen1, shelly_gen2, esphome or generic", protocol));
      }
      if (k == "topic") r.text(x, q, rc.topic);
      if (k == "full_topic") r.text(x, q, rc.full_topic);
      if (k == "channel") r.integer_as(x, q, 0, 32, rc.channel);
      if (k == "object_id") r.text(x, q, rc.object_id);
      if (k == "command_topic") r.text(x, q, rc.command_topic);
      if (k == "state_topic") r.text(x, q, rc.state_topic);
      if (k == "availability_topic") r.text(x, q, rc.availability_topic);
      if (k == "payload_on") r.text(x, q, rc.payload_on);
      if (k == "payload_off") r.text(x, q, rc.payload_off);
      if (k == "state_on") r.text(x, q, rc.state_on);
      if (k == "state_off") r.text(x, q, rc.state_off);
      if (k == "available") r.text(x, q, rc.available);
      if (k == "not_available") r.text(x, q, rc.not_available);
      if (k == "dead_man_s") r.secs(x, q, 0, 64800, rc.dead_man);
      if (k == "speed_dimmer") r.boolean(x, q, rc.speed_dimmer);
      if (k == "speed_topic") r.text(x, q, rc.speed_topic);
    }
    if (protocol.empty()) r.e.add(p, v, "protocol is required");
    if ((rc.protocol == drivers::mqtt::RelayProtocol::shelly_gen1 ||
         rc.protocol == drivers::mqtt::RelayProtocol::shelly_gen2) && !v["channel"]) {
      rc.channel = 0;  // Shelly counts from 0
    }
    for (const auto& problem : drivers::mqtt::validate_relay(rc)) r.e.add(p, v, problem);
    out.push_back(rc);
  }
}

void parse_sensors(const YAML::Node& node, const std::string& path, Reader& r, std::vector<drivers::mqtt::SensorConfig>& out) {
  for (const auto& [id, v] : id_entries(node, path, "sensor", r.e)) {
    const std::string p = path + "." + id;
    drivers::mqtt::SensorConfig s;
    s.id = id;
    for (const auto& [k, x] : yaml::entries(v, p, {"topic", "format", "key", "field", "min", "max"}, r.e)) {
      const std::string q = p + "." + k;
      if (k == "topic") r.text(x, q, s.topic);
      if (k == "format") {
        std::string f;
        r.text(x, q, f);
        if (f == "tasmota") s.format = drivers::mqtt::SensorFormat::tasmota;
        else if (f == "json") s.format = drivers::mqtt::SensorFormat::json;
        else if (f == "number") s.format = drivers::mqtt::SensorFormat::number;
        else r.e.add(q, x, fmt::format("'{}' must be tasmota, json or number", f));
      }
      if (k == "key") r.text(x, q, s.key);
      if (k == "field") r.text(x, q, s.field);
      if (k == "min") {
        if (auto d = yaml::real(x, q, r.e)) s.min = *d;
      }
      if (k == "max") {
        if (auto d = yaml::real(x, q, r.e)) s.max = *d;
      }
    }
    for (const auto& problem : drivers::mqtt::validate_sensor(s)) r.e.add(p, v, problem);
    out.push_back(s);
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

ConfigResult parse_config(const std::string& text, const std::string& source) {
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
  for (const auto& [section, node] :
       yaml::entries(*root, "", {"site", "database", "loop", "devices", "mqtt", "relays", "relay_timing", "sensors",
                                 "readings", "profiles", "safety"},
                     e)) {
    if (section == "site") {
      for (const auto& [k, v] : yaml::entries(node, "site", {"name"}, e)) r.text(v, "site." + k, c.site_name);
    } else if (section == "database") {
      for (const auto& [k, v] : yaml::entries(node, "database", {"path", "telemetry_days", "events_days", "journal_days"}, e)) {
        if (k == "path") r.text(v, "database.path", c.database_path);
        if (k == "telemetry_days") r.integer_as(v, "database.telemetry_days", 1, 3650, c.telemetry_days);
        if (k == "events_days") r.integer_as(v, "database.events_days", 1, 3650, c.events_days);
        if (k == "journal_days") r.integer_as(v, "database.journal_days", 0, 3650, c.journal_days);
      }
    } else if (section == "loop") {
      for (const auto& [k, v] : yaml::entries(node, "loop", {"interval_ms", "dry_run"}, e)) {
        if (k == "interval_ms") r.ms(v, "loop.interval_ms", 100, 60000, c.interval);
        if (k == "dry_run") r.boolean(v, "loop.dry_run", c.dry_run);
      }
    } else if (section == "devices") {
      for (const auto& [k, v] : yaml::entries(node, "devices", {"victron", "solark"}, e)) {
        if (k == "victron") parse_victron(v, "devices.victron", r, c.victron);
        if (k == "solark") parse_solark(v, "devices.solark", r, c.solark);
      }
    } else if (section == "mqtt") {
      parse_mqtt(node, "mqtt", r, c.mqtt);
    } else if (section == "relays") {
      has_relays = true;
      parse_relays(node, "relays", r, c.relays);
    } else if (section == "relay_timing") {
      for (const auto& [k, v] :
           yaml::entries(node, "relay_timing", {"resend_s", "confirm_s", "retry_min_s", "retry_max_s"}, e)) {
        const std::string p = "relay_timing." + k;
        if (k == "resend_s") r.secs(v, p, 5, 3600, c.relay_timing.resend_interval);
        if (k == "confirm_s") r.secs(v, p, 1, 600, c.relay_timing.confirm_timeout);
        if (k == "retry_min_s") r.secs(v, p, 1, 600, c.relay_timing.retry_min);
        if (k == "retry_max_s") r.secs(v, p, 1, 3600, c.relay_timing.retry_max);
      }
    } else if (section == "sensors") {
      parse_sensors(node, "sensors", r, c.sensors);
    } else if (section == "readings") {
      for (const auto& [k, v] : yaml::entries(node, "readings", {"pv_w", "load_w", "battery_v", "battery_temp_c"}, e)) {
        if (k == "pv_w") r.strings(v, "readings.pv_w", c.pv_readings);
        if (k == "load_w") r.strings(v, "readings.load_w", c.load_readings);
        if (k == "battery_v") r.strings(v, "readings.battery_v", c.battery_v_readings);
        if (k == "battery_temp_c") r.strings(v, "readings.battery_temp_c", c.battery_temp_readings);
      }
    } else if (section == "profiles") {
      c.profiles = node;
      result.profiles = node;
    } else if (section == "safety") {
      for (const auto& [k, v] : yaml::entries(node, "safety", {"shutdown_policy", "charge_block_action"}, e)) {
        if (k == "charge_block_action") {
          parse_charge_block(v, r, c.charge_block_action);
          continue;
        }
        std::string s;
        r.text(v, "safety." + k, s);
        if (k == "shutdown_policy") {
          if (s == "leave") c.shutdown_policy = ShutdownPolicy::leave;
          else if (s == "miners_off") c.shutdown_policy = ShutdownPolicy::miners_off;
          else e.add("safety.shutdown_policy", v, fmt::format("'{}' must be leave or miners_off", s));
        }
      }
    }
  }
  if (!has_relays) e.add(source + ": relays: the section is missing; shackd switches loads through it");
  if (!c.victron.enabled && !c.solark.enabled) {
    e.add(source + ": devices: neither victron nor solark is configured: shackd needs a battery voltage");
  }
  if (c.charge_block_action.dvcc && !c.victron.enabled) {
    e.add(source + ": safety.charge_block_action: dvcc writes the GX's DVCC limit, but no victron device is configured");
  }
  if (c.charge_block_action.solark && !c.solark.enabled) {
    e.add(source + ": safety.charge_block_action: solark writes the Sol-Ark's register 210, but no solark device is configured");
  }
  if (c.charge_block_action.solark && c.solark.enabled && !c.solark.max_charge_a) {
    e.add(source + ": devices.solark.max_charge_a: required with solark in safety.charge_block_action: the battery "
                   "max charge current (A) to put back if register 210 already reads 0 A when a block begins");
  }
  // Defaults for the snapshot's sums follow the devices that are there.
  if (c.pv_readings.empty()) {
    if (c.victron.enabled) c.pv_readings.push_back("system.pv_dc_w");
    if (c.solark.enabled) {
      for (const char* r2 : {"solark.pv1_w", "solark.pv2_w", "solark.pv3_w", "solark.pv4_w"}) c.pv_readings.push_back(r2);
    }
  }
  if (c.load_readings.empty()) {
    if (c.solark.enabled) c.load_readings = {"solark.load_w"};
    else c.load_readings = {"system.ac_consumption_l1_w", "system.ac_consumption_l2_w", "system.ac_consumption_l3_w"};
  }
  // The battery's sources, best first: a shunt's 0.01 V before the GX system's 0.1 V before the
  // inverter's terminal reading; a BMS's coldest cell before a monitor's sensor before the
  // inverter's (docs/registers.md §1.4, §1.5, §2.4).
  if (c.battery_v_readings.empty()) {
    if (c.victron.enabled && c.victron.battery_unit) c.battery_v_readings.push_back("battery.battery_v");
    if (c.victron.enabled) c.battery_v_readings.push_back("system.battery_v");
    if (c.solark.enabled) c.battery_v_readings.push_back("solark.battery_v");
  }
  if (c.battery_temp_readings.empty()) {
    if (c.victron.enabled && c.victron.battery_unit) {
      c.battery_temp_readings = {"battery.min_cell_temp_c", "battery.battery_temp_c"};
    }
    if (c.solark.enabled) c.battery_temp_readings.push_back("solark.battery_temp_c");
  }
  for (const auto& [key, list] : {std::pair<const char*, const std::vector<std::string>*>{"pv_w", &c.pv_readings},
                                  {"load_w", &c.load_readings},
                                  {"battery_v", &c.battery_v_readings},
                                  {"battery_temp_c", &c.battery_temp_readings}}) {
    for (const auto& name : *list) {
      if (auto why = unknown_reading(c, name)) e.add(fmt::format("{}: readings.{}: '{}' {}", source, key, name, *why));
    }
  }
  result.errors = e.list();
  if (result.errors.empty()) result.config = std::move(c);
  return result;
}

ConfigResult load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {std::nullopt, {fmt::format("{}: cannot read the config file", path)}, std::nullopt};
  std::stringstream s;
  s << in.rdbuf();
  return parse_config(s.str(), path);
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
  c.status_topic = m.prefix + "/status-" + role;  // its own will, not shackd's
  return c;
}

std::vector<std::string> charge_block_warnings(const Config& c) {
  std::vector<std::string> out;
  const auto& a = c.charge_block_action;
  if (c.victron.enabled && c.solark.enabled && a.dvcc != a.solark) {
    out.push_back(fmt::format(
        "safety.charge_block_action stops only the {} while charging is blocked; the {} on the same bank keeps "
        "charging a cold battery (add {} to the list)",
        a.dvcc ? "Victron chargers (DVCC)" : "Sol-Ark", a.dvcc ? "Sol-Ark" : "Victron chargers",
        a.dvcc ? "solark" : "dvcc"));
  }
  if (!a.dvcc && !a.solark) {
    out.push_back("safety.charge_block_action is alarm: a cold battery raises an alarm, but no charger is stopped");
  }
  return out;
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
