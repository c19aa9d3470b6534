#include "daemon/text/json_out.hpp"

#include <array>
#include <charconv>

namespace shackd::json_out {

void string(std::string& out, std::string_view s) {
  out += '"';
  // Runs that need no escape (nearly every key and value) are appended whole: appending char by
  // char was a sixth of the daemon's instructions (issue 57).
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        out += "\\u00";
        out += kHex[(c >> 4) & 0xf];
        out += kHex[c & 0xf];
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

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
