#include "drivers/mqtt/sensors.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "drivers/text/json_in.hpp"

namespace drivers::mqtt {

namespace {

std::string shorten(const std::string& s) { return s.size() > 60 ? s.substr(0, 57) + "..." : s; }

std::optional<double> as_number(const nlohmann::json& j) {
  if (j.is_number()) return j.get<double>();
  return std::nullopt;
}

// Tasmota: {"Time":..,"DS18B20-1":{"Id":"0000..","Temperature":13.3},"TempUnit":"C"}. The -n index
// can change when a sensor is added, so a DS18x20 is best keyed by its Id.
std::optional<double> tasmota_value(const nlohmann::json& j, const SensorConfig& s, std::string& why) {
  for (const auto& [key, value] : j.items()) {
    if (!value.is_object()) continue;
    const bool by_key = key == s.key;
    const bool by_id = value.contains("Id") && value["Id"].is_string() && value["Id"].get<std::string>() == s.key;
    if (!by_key && !by_id) continue;
    if (!value.contains(s.field)) {
      why = "sensor '" + s.key + "' has no " + s.field;
      return std::nullopt;
    }
    auto v = as_number(value[s.field]);
    if (!v) why = s.key + "." + s.field + " is not a number";
    return v;
  }
  why = "no sensor '" + s.key + "' in the payload";
  return std::nullopt;
}

std::optional<double> json_path_value(const nlohmann::json& j, const std::string& path, std::string& why) {
  const nlohmann::json* at = &j;
  std::stringstream ss(path);
  for (std::string part; std::getline(ss, part, '.');) {
    if (at->is_object() && at->contains(part)) {
      at = &(*at)[part];
    } else if (at->is_array() && !part.empty() && part.size() <= 9 && part.find_first_not_of("0123456789") == std::string::npos &&
               std::stoul(part) < at->size()) {
      at = &(*at)[std::stoul(part)];
    } else {
      why = "no '" + part + "' along the path '" + path + "'";
      return std::nullopt;
    }
  }
  auto v = as_number(*at);
  if (!v) why = "'" + path + "' is not a number";
  return v;
}

}  // namespace

std::vector<std::string> validate_sensor(const SensorConfig& s) {
  std::vector<std::string> e;
  const std::string who = "sensor '" + s.id + "'";
  if (s.topic.empty() || s.topic.find_first_of("#+") != std::string::npos) {
    e.push_back(who + ": topic must be set, without wildcards");
  }
  if (s.format != SensorFormat::number && s.key.empty()) e.push_back(who + ": key must name the value to read");
  if (!(s.min < s.max)) e.push_back(who + ": min must be below max");
  return e;
}

bool is_sensor_topic(const std::vector<SensorConfig>& sensors, const std::string& topic) {
  return std::any_of(sensors.begin(), sensors.end(), [&](const SensorConfig& s) { return s.topic == topic; });
}

SensorResult parse_sensor_message(const std::vector<SensorConfig>& sensors, const std::string& topic,
                                  const std::string& payload) {
  SensorResult out;
  std::optional<nlohmann::json> doc;
  bool parsed = false;
  std::string unparsed;  // why the payload is no document
  for (const auto& s : sensors) {
    if (s.topic != topic) continue;
    std::string why;
    std::optional<double> v;
    if (s.format == SensorFormat::number) {
      try {
        std::size_t used = 0;
        const double d = std::stod(payload, &used);
        if (used == payload.size()) v = d;
      } catch (const std::exception&) {
      }
      if (!v) why = "'" + shorten(payload) + "' is not a number";
    } else {
      if (!parsed) {
        parsed = true;
        auto j = drivers::text::parse_peer_json(payload, &unparsed);
        if (!j.is_discarded()) doc = std::move(j);
      }
      if (!doc) {
        why = unparsed + ": '" + shorten(payload) + "'";
      } else if (s.format == SensorFormat::tasmota) {
        v = tasmota_value(*doc, s, why);
      } else {
        v = json_path_value(*doc, s.key, why);
      }
    }
    if (v && !(std::isfinite(*v) && *v >= s.min && *v <= s.max)) {
      std::ostringstream m;
      m << *v << " outside its plausible range " << s.min << ".." << s.max;
      why = m.str();
      v.reset();
    }
    if (v) out.readings.push_back({s.id, *v});
    else out.errors.push_back("sensor '" + s.id + "' on " + topic + ": ignored: " + why);
  }
  return out;
}

}  // namespace drivers::mqtt
