#include "sim/site_from.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <stdexcept>

#include "daemon/config/profiles_yaml.hpp"
#include "daemon/site/profiles.hpp"

namespace sim {

namespace {

std::string trial_topic(const std::string& topic) { return std::string(kTrialTopicPrefix) + "/" + topic; }

// A Shelly Gen1's id gets a prefix that stays one topic level (shellies/<id>/relay/0).
std::string trial_name(const std::string& topic) { return std::string(kTrialTopicPrefix) + "-" + topic; }

}  // namespace

OwnerSite read_owner_site(const std::string& path) {
  auto parsed = shackd::load_config(path);
  if (!parsed.config) {
    std::string all;
    for (const auto& e : parsed.errors) all += "\n  " + e;
    throw std::runtime_error(fmt::format("--site-from {}: the config has errors (shackd check lists them):{}", path, all));
  }
  OwnerSite site{*parsed.config, {}};
  for (const auto& r : site.config.relays) site.load_w[r.id] = kDefaultLoadW;
  std::vector<std::string> errors;
  if (const auto p = shackd::profiles_in_force({}, site.config.profiles, errors)) {
    for (std::size_t i = 0; i < p->miners.size() && i < p->rules.miners.size(); ++i) {
      if (p->rules.miners[i].power_w > 0) site.load_w[p->miners[i].relay_id] = p->rules.miners[i].power_w;
    }
    for (std::size_t i = 0; i < p->zones.size() && i < p->rules.zones.size(); ++i) {
      if (p->zones[i].heater_relay && p->rules.zones[i].heater_power_w > 0) {
        site.load_w[*p->zones[i].heater_relay] = p->rules.zones[i].heater_power_w;
      }
    }
  }
  return site;
}

std::string trial_config_text(const std::string& owner_text, const std::string& owner_path, const ServedAt& at,
                              const std::string& db_path) {
  YAML::Node root = YAML::Load(owner_text);
  root["database"]["path"] = db_path;
  if (auto devices = root["devices"]) {
    for (auto it = devices.begin(); it != devices.end(); ++it) {
      const auto name = it->first.as<std::string>();
      const auto port = at.device_ports.find(name);
      if (port == at.device_ports.end()) continue;  // disabled
      YAML::Node d = it->second;
      for (const char* rtu_key : {"device", "baud", "parity"}) d.remove(rtu_key);
      if (d["transport"]) d["transport"] = "tcp";
      d["host"] = at.bind;
      d["port"] = port->second;
    }
  }
  if (auto miners = root["miners"]) {
    for (auto it = miners.begin(); it != miners.end(); ++it) {
      const auto port = at.miner_ports.find(it->first.as<std::string>());
      if (port == at.miner_ports.end()) continue;
      YAML::Node m = it->second;
      m["host"] = at.bind;
      m["port"] = port->second;
      if (m["password"]) m["password"] = "sim-secret";  // the simulated firmware's (sim/miner_model.hpp)
    }
  }
  if (auto relays = root["relays"]) {
    for (auto it = relays.begin(); it != relays.end(); ++it) {
      YAML::Node r = it->second;
      const std::string protocol = r["protocol"] ? r["protocol"].as<std::string>() : "tasmota";
      if (protocol == "generic") {
        for (const char* key : {"command_topic", "state_topic", "availability_topic", "speed_topic"}) {
          if (r[key]) r[key] = trial_topic(r[key].as<std::string>());
        }
      } else if (protocol == "tasmota") {
        // Tasmota's FullTopic moves every one of its topics (cmnd, stat, tele) under the prefix.
        r["full_topic"] = trial_topic(r["full_topic"] ? r["full_topic"].as<std::string>() : "%prefix%/%topic%/");
      } else if (protocol == "shelly_gen1") {
        // A Gen1 device's topics start with shellies/ whatever its id: the id is what moves.
        if (r["topic"]) r["topic"] = trial_name(r["topic"].as<std::string>());
      } else if (r["topic"]) {
        r["topic"] = trial_topic(r["topic"].as<std::string>());  // Shelly Gen2's and ESPHome's prefix
      }
    }
  }
  if (auto sensors = root["sensors"]) {
    for (auto it = sensors.begin(); it != sensors.end(); ++it) {
      YAML::Node s = it->second;
      if (s["topic"]) s["topic"] = trial_topic(s["topic"].as<std::string>());
    }
  }
  YAML::Node mqtt = root["mqtt"];
  mqtt["client_id"] = (mqtt["client_id"] ? mqtt["client_id"].as<std::string>() : std::string("shackd")) + "-try";
  mqtt["prefix"] = (mqtt["prefix"] ? mqtt["prefix"].as<std::string>() : std::string("shack")) + "-try";
  mqtt["discovery"] = false;
  YAML::Emitter out;
  out << root;
  return fmt::format("# A trial of {}, written by shackd-sim --site-from: its devices and miners are the\n"
                     "# simulator's on {}, its relays and sensors under {}/ (a Shelly Gen1 as shellies/{}-<id>), its own\n"
                     "# database, MQTT client id and prefix, no Home Assistant discovery. Run it with\n"
                     "#   shackd run --config <this file>\n"
                     "# while shackd-sim runs; it switches no real relay.\n{}\n",
                     owner_path, at.bind, kTrialTopicPrefix, kTrialTopicPrefix, out.c_str());
}

}  // namespace sim
