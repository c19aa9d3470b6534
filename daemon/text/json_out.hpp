#pragma once
// A small JSON writer for the messages shackd publishes every cycle: appending to one string is
// several times cheaper than building nlohmann's document first (docs/development.md, "Performance").
#include <cmath>
#include <optional>
#include <string>
#include <string_view>

namespace shackd::json_out {

// `s` quoted and escaped. Out of line: inlined with a literal, GCC 14 on armhf warned of an
// overlapping memcpy in the appends that cannot happen (-Wrestrict, a false positive; CI's
// trixie armhf build).
void string(std::string& out, std::string_view s);

// A number rounded to `decimals`, or null when missing or not finite.
void number(std::string& out, std::optional<double> v, int decimals);

inline void key(std::string& out, std::string_view k) {
  if (!out.empty() && out.back() != '{' && out.back() != '[') out += ',';
  string(out, k);
  out += ':';
}

}  // namespace shackd::json_out
