#pragma once
// A small JSON writer for the messages shackd publishes every cycle: appending to one string is
// several times cheaper than building nlohmann's document first (docs/development.md, "Performance").
#include <cmath>
#include <optional>
#include <string>
#include <string_view>

namespace shackd::json_out {

inline void string(std::string& out, std::string_view s) {
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

// A number rounded to `decimals`, or null when missing or not finite.
void number(std::string& out, std::optional<double> v, int decimals);

inline void key(std::string& out, std::string_view k) {
  if (!out.empty() && out.back() != '{' && out.back() != '[') out += ',';
  string(out, k);
  out += ':';
}

}  // namespace shackd::json_out
