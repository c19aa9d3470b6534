#pragma once
// Typed field readers for the config's sections: each leaves its target untouched on error and
// records the error with the field's YAML path and line.
#include <fmt/format.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "daemon/config/yaml_read.hpp"

namespace shackd::yaml {

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
  // Whole seconds in the file, into any duration (relay timing is kept in milliseconds).
  template <typename Duration>
  void secs(const YAML::Node& n, const std::string& p, long long min, long long max, Duration& out) {
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

}  // namespace shackd::yaml
