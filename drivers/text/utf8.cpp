#include "drivers/text/utf8.hpp"

#include <unistr.h>

#include <algorithm>
#include <cstdint>

namespace drivers::text {

std::optional<std::size_t> first_invalid_utf8(std::string_view s) {
  // libunistring's u8_check: well-formed as Unicode 15 §3.9 (table 3-7) says, no overlongs, no
  // surrogates, nothing past U+10FFFF.
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  const std::uint8_t* bad = s.empty() ? nullptr : u8_check(p, s.size());
  if (!bad) return std::nullopt;
  return static_cast<std::size_t>(bad - p);
}

std::string clean_utf8(std::string_view s, std::size_t max_bytes) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  static constexpr std::string_view kEllipsis = "\xE2\x80\xA6";     // U+2026
  std::string out;
  out.reserve(std::min(s.size(), max_bytes == std::string::npos ? s.size() : max_bytes + 3));
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  for (std::size_t i = 0; i < s.size();) {
    // u8_mbtouc: the character at i, or U+FFFD for the ill-formed part there and its length (the
    // maximal subpart, §3.9 "U+FFFD Substitution of Maximal Subparts"); a U+FFFD written as such
    // is a character like another.
    ucs4_t c = 0;
    const auto n = static_cast<std::size_t>(u8_mbtouc(&c, p + i, s.size() - i));
    const bool ill = c == 0xFFFD && s.substr(i, n) != kReplacement;
    const std::string_view piece = ill ? kReplacement : s.substr(i, n);
    if (max_bytes != std::string::npos && out.size() + piece.size() > max_bytes) {
      // Room for the ellipsis: drop whole characters until it fits.
      while (!out.empty() && out.size() + kEllipsis.size() > max_bytes) {
        std::size_t k = out.size() - 1;
        while (k > 0 && (static_cast<unsigned char>(out[k]) & 0xC0) == 0x80) --k;
        out.resize(k);
      }
      if (out.size() + kEllipsis.size() <= max_bytes) out += kEllipsis;
      return out;
    }
    out += piece;
    i += n;
  }
  return out;
}

std::string clean_printable(std::string_view s, std::size_t max_bytes) {
  const std::string valid = clean_utf8(s);
  std::string shown;
  shown.reserve(valid.size());
  static constexpr char kHex[] = "0123456789abcdef";
  const auto escape = [&](unsigned v) {
    shown += "\\x";
    shown += kHex[(v >> 4) & 0xF];
    shown += kHex[v & 0xF];
  };
  for (std::size_t i = 0; i < valid.size(); ++i) {
    const auto c = static_cast<unsigned char>(valid[i]);
    if (c < 0x20 || c == 0x7F) {
      escape(c);
    } else if (c == 0xC2 && i + 1 < valid.size() && static_cast<unsigned char>(valid[i + 1]) < 0xA0) {
      escape(static_cast<unsigned char>(valid[++i]));  // U+0080..U+009F, the C1 controls
    } else {
      shown += static_cast<char>(c);
    }
  }
  return clean_utf8(shown, max_bytes);
}

}  // namespace drivers::text
