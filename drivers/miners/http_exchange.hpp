#pragma once
// A miner API over HTTP/1.1 (Braiins OS's REST API), as an Exchange: the request and the reply
// travel as small text envelopes, so the client is the same over the wire (libcurl, issue 58) as
// against the simulator's handler in tests.
//   request: "<METHOD> <PATH>\n<token or empty>\n<JSON body or empty>"
//   reply:   "<HTTP status>\n<body>"
#include <chrono>
#include <memory>
#include <string>

#include "drivers/miners/miner_api.hpp"
#include "drivers/miners/socket_io.hpp"

namespace drivers::miners {

struct HttpRequest {
  std::string method;  // GET, PUT, POST
  std::string path;    // /api/v1/miner/stats
  std::string token;   // sent as the Authorization header when not empty
  std::string body;    // JSON
};
struct HttpReply {
  int status = 0;
  std::string body;
};

std::string encode(const HttpRequest& r);
std::string encode(const HttpReply& r);
// Throw std::runtime_error on an envelope that is not one.
HttpRequest decode_request(const std::string& text);
HttpReply decode_reply(const std::string& text);

// A reply's bounds, checked while it arrives: its body however framed (Content-Length, chunked, to
// the close), its head (the status line and the header lines).
inline constexpr std::size_t kMaxHttpBody = 1 << 20;
inline constexpr std::size_t kMaxHeadBytes = 16 * 1024;
inline constexpr std::size_t kMaxHeaderLines = 100;

// HTTPS (a firmware that serves its API so): the miner's certificate checked against the system's
// CAs, or against `ca_file` (PEM: a self-signed miner's own certificate), and its host name.
struct HttpsOptions {
  bool on = false;
  std::string ca_file;
};

// One request per connection, over libcurl; the whole exchange (connect, send, the reply's head
// and body) within `timeout`, a reply's head within kMaxHeadBytes and kMaxHeaderLines and its body
// within kMaxHttpBody, checked as it arrives (cpp-httplib's client, used before our own, read the
// whole body before its size could be checked, and its time-out was per read: a miner streaming a
// chunked body grew the daemon by gigabytes, issue 49). Throws std::runtime_error when the miner
// does not answer within them; `cancel` (optional) ends a wait at once ("stopping").
Exchange http_exchange(std::string host, int port, std::chrono::milliseconds timeout,
                       std::shared_ptr<const Cancel> cancel = nullptr, HttpsOptions https = {});

}  // namespace drivers::miners
