#pragma once
// A miner API over HTTP/1.1 (Braiins OS's REST API), as an Exchange: the request and the reply
// travel as small text envelopes, so the client is the same over the wire (cpp-httplib, bounded
// in time) as against the simulator's handler in tests.
//   request: "<METHOD> <PATH>\n<token or empty>\n<JSON body or empty>"
//   reply:   "<HTTP status>\n<body>"
#include <chrono>
#include <string>

#include "drivers/miners/miner_api.hpp"

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

// One request per connection, at most `timeout` to connect and as long again for each read and
// write; a body over 1 MiB is refused. Throws std::runtime_error when the miner does not answer.
Exchange http_exchange(std::string host, int port, std::chrono::milliseconds timeout);

}  // namespace drivers::miners
