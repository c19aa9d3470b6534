#pragma once
// The metrics endpoint's requests (RFC 9112), read before anything grows with them: a head of at
// most kMaxRequestHead bytes and kMaxRequestLines lines, no body. cpp-httplib (Debian 12's 0.11,
// compiled into its own library, so its CPPHTTPLIB_* limits cannot be changed from here) kept every
// header line of a request before the handler or the token check ran: a client sending `X: y`
// lines grew the daemon by 18 bytes for each byte sent, to std::bad_alloc (issue 48). Pure, no I/O.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace shackd::metrics {

inline constexpr std::size_t kMaxRequestHead = 8 * 1024;
inline constexpr std::size_t kMaxRequestLines = 64;

struct HttpRequest {
  std::string method;  // GET, HEAD
  std::string target;  // "/metrics"
  bool http11 = true;
  bool keep_alive = true;  // HTTP/1.1 without "Connection: close"
  std::string authorization, accept;
  bool has_range = false;  // asked for part of the reply: served whole (Accept-Ranges: none)
};

struct HeadResult {
  enum class Kind { incomplete, request, refused } kind = Kind::incomplete;
  HttpRequest request;
  std::size_t consumed = 0;  // bytes of `buffer` the head took (kind request)
  int status = 0;            // kind refused: 400, 413, 431, 501, 505
  std::string why;           // kind refused: for the reply's body
};

// Reads the head at the start of `buffer`. `incomplete` means more is needed and the buffer is
// still within the bounds; past them, or on anything that is not a request this endpoint serves,
// `refused` with the status to answer before closing.
HeadResult parse_head(std::string_view buffer);

}  // namespace shackd::metrics
