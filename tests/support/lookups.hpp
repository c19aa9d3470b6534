#pragma once
// Small lookups that several suites share (one definition each: the suites are unity builds, where
// two files' helpers of the same name meet in one translation unit).
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "drivers/modbus_device.hpp"

namespace test {

// The value a poll gave for the reading called `name`; nullopt when it has none.
inline std::optional<double> reading(const drivers::PollResult& r, const std::string& name) {
  for (const auto& x : r.readings) {
    if (x.name == name) return x.value;
  }
  return std::nullopt;
}

// Whether any line of `lines` contains `text`.
inline bool any_contains(const std::vector<std::string>& lines, const std::string& text) {
  return std::any_of(lines.begin(), lines.end(), [&](const auto& l) { return l.find(text) != std::string::npos; });
}

}  // namespace test
