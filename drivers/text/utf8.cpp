#include "drivers/text/utf8.hpp"

#include <algorithm>

namespace drivers::text {

namespace {

// The length of the well-formed sequence at s[i], or 0 (Unicode 15 table 3-7).
std::size_t sequence_at(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const std::size_t left = s.size() - i;
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  auto cont = [&](std::size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return k < left && b(k) >= lo && b(k) <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;  // no surrogates
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

}  // namespace

std::optional<std::size_t> first_invalid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = sequence_at(s, i);
    if (n == 0) return i;
    i += n;
  }
  return std::nullopt;
}

std::string clean_utf8(std::string_view s, std::size_t max_bytes) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  static constexpr std::string_view kEllipsis = "\xE2\x80\xA6";     // U+2026
  std::string out;
  out.reserve(std::min(s.size(), max_bytes == std::string::npos ? s.size() : max_bytes + 3));
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = sequence_at(s, i);
    const std::string_view piece = n ? s.substr(i, n) : kReplacement;
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
    i += n ? n : 1;
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
