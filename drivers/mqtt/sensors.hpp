#pragma once
// Temperature sensors on MQTT: Tasmota's tele/<t>/SENSOR (DS18B20 keyed by Id or alias,
// BME280, SHT3X ...), any JSON with a path, or a plain number. A malformed payload is ignored
// with a reason; it never crashes or blocks anything.
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace drivers::mqtt {

enum class SensorFormat { tasmota, json, number };

struct SensorConfig {
  std::string id;  // shackd's name: "heat_room_temp"
  std::string topic;
  SensorFormat format = SensorFormat::tasmota;
  // tasmota: the sensor's key ("DS18B20", "DS18B20-2", "BME280") or a DS18x20 Id ("00000566CC39")
  // json: a dotted path ("sensors.0.temp")
  std::string key;
  std::string field = "Temperature";  // tasmota: the value inside the sensor's object
  double min = -40, max = 100;         // plausible range
  bool operator==(const SensorConfig&) const = default;
};

struct SensorReading {
  std::string id;
  double value;
};

// For every sensor on `topic`: its value, or why the payload gave none.
struct SensorResult {
  std::vector<SensorReading> readings;
  std::vector<std::string> errors;
};
SensorResult parse_sensor_message(const std::vector<SensorConfig>& sensors, const std::string& topic,
                                  const std::string& payload);
// Whether a configured sensor reads `topic`.
bool is_sensor_topic(const std::vector<SensorConfig>& sensors, const std::string& topic);

std::vector<std::string> validate_sensor(const SensorConfig& s);

}  // namespace drivers::mqtt
