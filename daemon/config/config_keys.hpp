#pragma once
// The config file's sections and keys, declared once (issue 57): each section with one line of
// doc, and each key of a section with a plain shape (a map of keys, or a map of ids each a map of
// keys) with its unit, range, default and doc, and how it is read. parse_config reads the file by
// these tables; docs/guide.md's key tables are made from them and config/shackd.example.yaml is
// checked against them (tests/docs/config_keys.cpp). A section of another shape (devices:, each
// by its kind's declaration; miners:; profiles:, by the profiles' schema) is read by its own code
// and listed here by name.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/config/field_reader.hpp"

namespace shackd::config_keys {

// What a key's reader has besides its node: the errors, and the device kinds (safety's words).
struct Context {
  yaml::Reader& r;
  drivers::Kinds kinds;
};

// One key, read into a `T` (the Config, or one section's struct).
template <typename T>
struct Key {
  std::string_view key;
  std::string_view unit;  // "s", "ms", "°C", ...; empty for none
  std::string range;      // in words, for the docs: "5 to 3600"; empty for none
  std::string_view doc;
  std::function<void(const YAML::Node&, const std::string& path, Context&, T&)> read;
  std::function<std::string(const T&)> shown;  // its value, as the file writes it (for the default)
};

// A key as the docs list it.
struct KeyDoc {
  std::string key, unit, range, fallback, doc;
};

struct Section {
  std::string_view name;
  std::string_view doc;
  bool per_id = false;        // a map of ids, each a map of these keys (relays:, sensors:)
  std::vector<KeyDoc> keys;   // empty: a section of its own shape
};

// Every top-level section, in the order the parser reads them.
const std::vector<Section>& sections();
std::vector<std::string_view> section_names();

// The tables, for parse_config.
const std::vector<Key<Config>>& site_keys();
const std::vector<Key<Config>>& database_keys();
const std::vector<Key<Config>>& loop_keys();
const std::vector<Key<MqttConfig>>& mqtt_keys();
const std::vector<Key<drivers::mqtt::RelayConfig>>& relay_keys();
const std::vector<Key<drivers::mqtt::RelayTiming>>& relay_timing_keys();
const std::vector<Key<drivers::mqtt::SensorConfig>>& sensor_keys();
const std::vector<Key<Config>>& readings_keys();
const std::vector<Key<Config>>& safety_keys();
const std::vector<Key<MetricsConfig>>& metrics_keys();
const std::vector<Key<UplinkConfig>>& uplink_keys();
const std::vector<Key<HostConfig>>& host_keys();
const std::vector<Key<AcSourceConfig>>& ac_source_keys();

// Reads `node`, a map of `keys`, into `target`: an unknown key is an error with a "did you mean".
template <typename T>
void read(const YAML::Node& node, const std::string& path, const std::vector<Key<T>>& keys, Context& c, T& target) {
  std::vector<std::string_view> names;
  for (const auto& k : keys) names.push_back(k.key);
  for (const auto& [key, value] : yaml::entries(node, path, names, c.r.e)) {
    for (const auto& k : keys) {
      if (k.key == key) k.read(value, path + "." + key, c, target);
    }
  }
}

}  // namespace shackd::config_keys
