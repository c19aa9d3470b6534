#pragma once
// UTF-8 at the boundaries: text from a config file, a topic, a payload or a device may be any
// bytes. JSON (RFC 8259 §8.1), Home Assistant and the journal want UTF-8, and nlohmann::json
// throws on anything else (type_error 316), so text is checked or cleaned where it enters.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace drivers::text {

// The offset of the first byte that does not start or continue a well-formed UTF-8 sequence
// (Unicode 15 §3.9, table 3-7: no overlongs, no surrogates, nothing past U+10FFFF); nullopt
// when all of `s` is valid.
std::optional<std::size_t> first_invalid_utf8(std::string_view s);
inline bool valid_utf8(std::string_view s) { return !first_invalid_utf8(s); }

// `s` made valid: each ill-formed sequence becomes U+FFFD, then cut to at most `max_bytes` on a
// character boundary (a cut never leaves half a character), with "…" when something was cut.
std::string clean_utf8(std::string_view s, std::size_t max_bytes = std::string::npos);

// `s` made valid and printable, for a log line or a status: as clean_utf8, and each control
// character (C0, DEL, C1: a terminal's escape sequences, a NUL, a line break that would forge a
// second log line) shown as its code, "\x1b", so that what a file or a peer said is seen, never
// obeyed. Cut to at most `max_bytes` on a character boundary, with "…" when something was cut.
std::string clean_printable(std::string_view s, std::size_t max_bytes = std::string::npos);

}  // namespace drivers::text
