#include "rules/format.hpp"

#include <array>
#include <charconv>
#include <cmath>

namespace rules {

std::string format_fixed(double value, int decimals) {
  if (std::isnan(value)) return "n/a";
  std::array<char, 64> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value,
                                 std::chars_format::fixed, decimals);
  if (ec != std::errc{}) return "n/a";
  std::string out(buf.data(), end);
  // -0.04 rounds to "-0.0"; a sign on zero reads as a different value.
  if (out.front() == '-' && out.find_first_not_of("-0.") == std::string::npos) out.erase(0, 1);
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "n/a";
  std::array<char, 64> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  if (ec != std::errc{}) return "n/a";
  std::string out(buf.data(), end);
  if (std::isfinite(value) && out.find_first_of(".e") == std::string::npos) out += ".0";
  return out;
}

}  // namespace rules
