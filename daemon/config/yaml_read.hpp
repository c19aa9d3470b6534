#pragma once
// Strict reading of YAML written by people. yaml-cpp is lenient where a controller must not be:
// it keeps duplicate keys, reads 010 as octal 8, and turns anything into a string. These helpers
// check every scalar against the type the field needs and name the YAML path and line:column.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/text/nearest.hpp"

namespace shackd::yaml {

// "profiles.miners[1].stop_voltage (line 23:7)"
std::string where(const std::string& path, const YAML::Node& node);

inline constexpr std::size_t kMaxConfigBytes = 1 << 20;  // a config file
inline constexpr std::size_t kMaxScalarBytes = 4096;     // one value or key in it
// Nodes in a config, aliases counted each time they are used (yaml_read.cpp, check_text).
inline constexpr std::size_t kMaxConfigNodes = 100000;

class Errors {
 public:
  void add(const std::string& path, const YAML::Node& node, const std::string& message) {
    list_.push_back(where(path, node) + ": " + message);
  }
  void add(std::string message) { list_.push_back(std::move(message)); }
  bool empty() const { return list_.empty(); }
  const std::vector<std::string>& list() const { return list_; }

 private:
  std::vector<std::string> list_;
};

// Parses text; a syntax error becomes one message with its line:column and nullopt.
std::optional<YAML::Node> parse(const std::string& text, const std::string& source, Errors& errors);

// A map's entries in file order. Reports a node that is not a map, keys that are not plain
// scalars, duplicate keys and keys not in `allowed` (with the nearest allowed name as a hint).
std::vector<std::pair<std::string, YAML::Node>> entries(const YAML::Node& node, const std::string& path,
                                                        const std::vector<std::string_view>& allowed, Errors& errors);

// Scalars. nullopt (and a message) when the node is not of that type.
std::optional<double> real(const YAML::Node& node, const std::string& path, Errors& errors);
std::optional<std::int64_t> integer(const YAML::Node& node, const std::string& path, Errors& errors);
std::optional<bool> boolean(const YAML::Node& node, const std::string& path, Errors& errors);
std::optional<std::string> text(const YAML::Node& node, const std::string& path, Errors& errors);

bool is_null(const YAML::Node& node);

// "Did you mean" (daemon/text/nearest.hpp), by its old name here.
using text::nearest;

// A map of ids (relays:, sensors:, devices:): duplicates refused, and each id topic-safe, since
// it becomes part of MQTT topics.
std::vector<std::pair<std::string, YAML::Node>> id_entries(const YAML::Node& node, const std::string& path,
                                                           const char* what, Errors& errors);

}  // namespace shackd::yaml
