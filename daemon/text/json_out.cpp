#include "daemon/text/json_out.hpp"

#include <array>
#include <charconv>

namespace shackd::json_out {

void number(std::string& out, std::optional<double> v, int decimals) {
  if (!v || !std::isfinite(*v)) {
    out += "null";
    return;
  }
  const double f = std::pow(10.0, decimals);
  const double r = std::round(*v * f) / f;
  std::array<char, 32> buf{};
  // Shortest form of the rounded value: 52.3, 8450, -0.5.
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), r == 0 ? 0.0 : r);
  out.append(buf.data(), ec == std::errc{} ? end : buf.data());
}

}  // namespace shackd::json_out
