#include "sim/miner_server.hpp"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>

#include "drivers/miners/http_exchange.hpp"

namespace sim {

struct MinerServer::Http {
  httplib::Server server;
};

namespace {
using Framing = drivers::miners::MinerKind::Framing;
constexpr std::size_t kMaxRequest = 64 * 1024;
}  // namespace

MinerServer::MinerServer(std::string bind, int port, MinerModel& model, std::mutex& mutex)
    : bind_(std::move(bind)), port_(port), model_(model), mutex_(mutex) {}

MinerServer::~MinerServer() {
  stop_ = true;
  if (http_) http_->server.stop();
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

std::string MinerServer::answer(const std::string& request) {
  std::lock_guard lock(mutex_);
  ++requests_;
  return model_.handle(request);
}

void MinerServer::start() {
  if (!model_.kind) throw std::runtime_error("a miner without a kind");
  if (model_.kind->framing == Framing::http) {
    http_ = std::make_unique<Http>();
    const auto handler = [this](const httplib::Request& q, httplib::Response& res) {
      const std::string token = q.has_header("Authorization") ? q.get_header_value("Authorization") : "";
      try {
        const auto reply = drivers::miners::decode_reply(
            answer(drivers::miners::encode(drivers::miners::HttpRequest{q.method, q.path, token, q.body})));
        res.status = reply.status;
        res.set_content(reply.body, "application/json");
      } catch (const std::exception&) {
        res.status = 503;  // unpowered or dead: cpp-httplib cannot drop a request unanswered
      }
    };
    http_->server.Get(".*", handler);
    http_->server.Put(".*", handler);
    http_->server.Post(".*", handler);
    port_ = port_ == 0 ? http_->server.bind_to_any_port(bind_) : (http_->server.bind_to_port(bind_, port_) ? port_ : -1);
    if (port_ <= 0) throw std::runtime_error("miner: cannot listen on " + bind_);
    thread_ = std::thread([this] { http_->server.listen_after_bind(); });
    // A stop() before its loop runs would be lost (cpp-httplib only stops a running server) and
    // the destructor's join would hang: back only once it runs, 5 s at most.
    for (int i = 0; i < 5000 && !http_->server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (!http_->server.is_running()) throw std::runtime_error("miner: its HTTP server did not start");
    return;
  }
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port_));
  if (::inet_pton(AF_INET, bind_.c_str(), &a.sin_addr) != 1 ||
      ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 8) != 0) {
    throw std::runtime_error("miner: cannot listen on " + bind_ + ":" + std::to_string(port_));
  }
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      const int c = ::accept(listen_fd_, nullptr, nullptr);
      if (c < 0) continue;
      serve_tcp(c);
      ::close(c);
    }
  });
}

// One request, one reply, as the clients frame them (drivers/miners/tcp_exchange.cpp): the
// request read to its closing brace (NUL-framed) or its length (length-framed), 2 s at most.
void MinerServer::serve_tcp(int c) {
  const bool framed = model_.kind->framing == Framing::length_le32;
  std::string in;
  char buf[4096];
  for (;;) {
    pollfd p{c, POLLIN, 0};
    if (::poll(&p, 1, 2000) <= 0) return;
    const ssize_t n = ::recv(c, buf, sizeof buf, 0);
    if (n <= 0 || in.size() + static_cast<std::size_t>(n) > kMaxRequest) return;
    in.append(buf, static_cast<std::size_t>(n));
    if (framed && in.size() >= 4) {
      const std::uint32_t size = static_cast<std::uint32_t>(static_cast<unsigned char>(in[0])) |
                                 static_cast<std::uint32_t>(static_cast<unsigned char>(in[1])) << 8 |
                                 static_cast<std::uint32_t>(static_cast<unsigned char>(in[2])) << 16 |
                                 static_cast<std::uint32_t>(static_cast<unsigned char>(in[3])) << 24;
      if (size > kMaxRequest) return;
      if (in.size() >= 4 + size) {
        in = in.substr(4, size);
        break;
      }
    }
    if (!framed && !in.empty() && (in.back() == '}' || in.back() == '\0')) break;
  }
  std::string out;
  try {
    out = answer(in);
  } catch (const std::exception&) {
    return;  // its API is down: the connection closes unanswered
  }
  if (framed) {
    std::string head(4, '\0');
    for (std::size_t i = 0; i < 4; ++i) head[i] = static_cast<char>((out.size() >> (8 * i)) & 0xff);
    out = head + out;
  } else if (model_.kind->framing != Framing::json_object) {
    out.push_back('\0');  // cgminer's end; Whatsminer v2 sends the bare object
  }
  ::send(c, out.data(), out.size(), MSG_NOSIGNAL);
}

}  // namespace sim
