#include "drivers/miners/http_exchange.hpp"

#include <httplib.h>

#include <stdexcept>

namespace drivers::miners {

namespace {
// Splits off the text up to the next newline (consumed); throws when there is none.
std::string line(const std::string& text, std::size_t& at, const char* what) {
  const auto nl = text.find('\n', at);
  if (nl == std::string::npos) throw std::runtime_error(std::string("HTTP envelope: no ") + what);
  std::string out = text.substr(at, nl - at);
  at = nl + 1;
  return out;
}
}  // namespace

std::string encode(const HttpRequest& r) { return r.method + ' ' + r.path + '\n' + r.token + '\n' + r.body; }
std::string encode(const HttpReply& r) { return std::to_string(r.status) + '\n' + r.body; }

HttpRequest decode_request(const std::string& text) {
  std::size_t at = 0;
  HttpRequest r;
  const std::string first = line(text, at, "request line");
  const auto sp = first.find(' ');
  if (sp == std::string::npos) throw std::runtime_error("HTTP envelope: no path in '" + first + "'");
  r.method = first.substr(0, sp);
  r.path = first.substr(sp + 1);
  r.token = line(text, at, "token line");
  r.body = text.substr(at);
  return r;
}

HttpReply decode_reply(const std::string& text) {
  std::size_t at = 0;
  const std::string status = line(text, at, "status line");
  HttpReply r;
  try {
    r.status = std::stoi(status);
  } catch (const std::exception&) {
    throw std::runtime_error("HTTP envelope: status '" + status.substr(0, 20) + "' is not a number");
  }
  r.body = text.substr(at);
  return r;
}

Exchange http_exchange(std::string host, int port, std::chrono::milliseconds timeout) {
  return [host = std::move(host), port, timeout](const std::string& request) {
    const HttpRequest q = decode_request(request);
    // A client per request: one connection, nothing kept open on a miner between polls.
    httplib::Client client(host, port);
    client.set_connection_timeout(timeout);
    client.set_read_timeout(timeout);
    client.set_write_timeout(timeout);
    client.set_keep_alive(false);
    httplib::Headers headers;
    // Braiins OS: "a token is returned, which should be included in the Authorization header"
    // (REST API v1.7.0, /api/v1/auth/login); the raw token, as its gRPC API takes it (bos-plus-api
    // README: metadata `authorization`, no scheme).
    if (!q.token.empty()) headers.emplace("Authorization", q.token);
    if (q.method != "GET" && q.method != "PUT" && q.method != "POST") {
      throw std::runtime_error("HTTP: method '" + q.method + "' is not one a miner client sends");
    }
    httplib::Result res = q.method == "GET"   ? client.Get(q.path, headers)
                          : q.method == "PUT" ? client.Put(q.path, headers, q.body, "application/json")
                                              : client.Post(q.path, headers, q.body, "application/json");
    if (!res) throw std::runtime_error("HTTP " + q.method + " " + q.path + ": " + httplib::to_string(res.error()));
    if (res->body.size() > (1u << 20)) throw std::runtime_error("HTTP " + q.path + ": reply over 1 MiB");
    return encode(HttpReply{res->status, res->body});
  };
}

}  // namespace drivers::miners
