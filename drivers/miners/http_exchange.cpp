#include "drivers/miners/http_exchange.hpp"

#include <stdexcept>
#include <string_view>

#include "drivers/miners/http_reply.hpp"

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

Exchange http_exchange(std::string host, int port, std::chrono::milliseconds timeout, std::shared_ptr<const Cancel> cancel) {
  return [host = std::move(host), port, timeout, cancel = std::move(cancel)](const std::string& request) {
    const HttpRequest q = decode_request(request);
    if (q.method != "GET" && q.method != "PUT" && q.method != "POST") {
      throw std::runtime_error("HTTP: method '" + q.method + "' is not one a miner client sends");
    }
    const auto bad = [](const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; };
    if (bad(q.path) || bad(q.token)) throw std::runtime_error("HTTP " + q.method + ": a line break in the path or token");
    // HTTP/1.1 (RFC 9112): one request per connection (Connection: close), nothing kept open on
    // a miner between polls. Braiins OS: "a token is returned, which should be included in the
    // Authorization header" (REST API v1.7.0, /api/v1/auth/login); the raw token, as its gRPC API
    // takes it (bos-plus-api README: metadata `authorization`, no scheme).
    std::string wire = q.method + " " + q.path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                       "\r\nConnection: close\r\nAccept: application/json\r\n";
    if (!q.token.empty()) wire += "Authorization: " + q.token + "\r\n";
    if (q.method != "GET") {
      wire += "Content-Type: application/json\r\nContent-Length: " + std::to_string(q.body.size()) + "\r\n";
    }
    wire += "\r\n";
    if (q.method != "GET") wire += q.body;
    const Io io{IoClock::now() + timeout, timeout, cancel.get()};
    const std::string what = "HTTP " + q.method + " " + q.path;
    try {
      Fd s{connect_to(host, port, io)};
      send_all(s.fd, wire, io);
      HttpReplyReader reply(kMaxHttpBody);
      std::string chunk;
      while (!reply.done()) {
        chunk.clear();
        // One recv at a time into a small buffer, fed at once: nothing is kept but the reply.
        if (!receive_some(s.fd, chunk, 64 * 1024, io, "reply")) {
          reply.closed();
          break;
        }
        reply.feed(chunk.data(), chunk.size());
      }
      return encode(HttpReply{reply.status(), reply.body()});
    } catch (const std::runtime_error& e) {
      if (std::string_view(e.what()) == "stopping") throw;
      throw std::runtime_error(what + ": " + e.what());
    }
  };
}

}  // namespace drivers::miners
