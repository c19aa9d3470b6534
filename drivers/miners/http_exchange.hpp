#pragma once
// A miner API over HTTP/1.1 (Braiins OS's REST API), as an Exchange: the request and the reply
// travel as small text envelopes, so the client is the same over the wire (our own HTTP/1.1
// client: http_reply.hpp, socket_io.hpp) as against the simulator's handler in tests.
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

inline constexpr std::size_t kMaxHttpBody = 1 << 20;

// One request per connection; the whole exchange (connect, send, the reply's head and body) within
// `timeout`, a reply's head within 16 KiB and 100 lines and its body within kMaxHttpBody, checked
// as it arrives (cpp-httplib's client, used before, read the whole body before its size could be
// checked, and its time-out was per read: a miner streaming a chunked body grew the daemon by
// gigabytes, issue 49). Throws std::runtime_error when the miner does not answer within them;
// `cancel` (optional) ends a wait at once.
Exchange http_exchange(std::string host, int port, std::chrono::milliseconds timeout,
                       std::shared_ptr<const Cancel> cancel = nullptr);

}  // namespace drivers::miners
