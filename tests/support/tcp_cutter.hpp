#pragma once
// A TCP forwarder in front of a real broker that the test cuts and restores, as a broker's
// restart, a router's reboot or Wi-Fi re-associating cut a site's link (issue 56). Up, it carries
// every connection both ways; down, it closes every connection it carries and takes new ones only
// to close them (the client's connect fails at once, as against a port nobody listens on). One
// thread, poll() with short timeouts; every wait bounded.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace test {

class TcpCutter {
 public:
  explicit TcpCutter(int upstream_port) : upstream_(upstream_port) {
    listen_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(listen_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    REQUIRE(::listen(listen_, 16) == 0);
    thread_ = std::thread([this] { run(); });
  }
  ~TcpCutter() {
    stop_ = true;
    thread_.join();
    for (auto& [c, u] : pairs_) {
      ::close(c);
      ::close(u);
    }
    ::close(listen_);
  }
  TcpCutter(const TcpCutter&) = delete;
  TcpCutter& operator=(const TcpCutter&) = delete;

  int port() const { return port_; }
  std::string uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  // Cut or restore. A cut takes effect within the forwarder's next turn (at most ~20 ms).
  void set_up(bool up) { up_ = up; }
  bool up() const { return up_; }
  // Held, it carries nothing either way but keeps every connection (a stalled path: what the
  // client writes waits in the sockets' buffers, no acknowledgement comes back); let go, it
  // carries everything held, in order. Takes effect within the forwarder's next turn.
  void set_held(bool held) { held_ = held; }
  // Connections carried since the start (each a client's connect while up).
  int carried() const { return carried_; }

 private:
  int connect_upstream() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(upstream_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
  // Moves what one side has to the other; false when either side is gone.
  static bool pass(int from, int to) {
    char buf[16384];
    const auto n = ::recv(from, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    std::size_t sent = 0;
    while (sent < static_cast<std::size_t>(n)) {
      const auto w = ::send(to, buf + sent, static_cast<std::size_t>(n) - sent, MSG_NOSIGNAL);
      if (w <= 0) return false;
      sent += static_cast<std::size_t>(w);
    }
    return true;
  }
  void run() {
    while (!stop_) {
      if (!up_) {
        for (auto& [c, u] : pairs_) {
          ::close(c);
          ::close(u);
        }
        pairs_.clear();
      }
      const bool held = held_;
      std::vector<pollfd> fds{{listen_, POLLIN, 0}};
      for (const auto& [c, u] : pairs_) {
        if (held) break;
        fds.push_back({c, POLLIN, 0});
        fds.push_back({u, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      // A connection taken below is polled next turn; held, none is.
      const std::size_t polled = held ? 0 : pairs_.size();
      if (fds[0].revents & POLLIN) {
        const int client = ::accept(listen_, nullptr, nullptr);
        if (client >= 0) {
          const int up = up_ ? connect_upstream() : -1;
          if (up < 0) {
            ::close(client);  // down (or no broker): refused at once
          } else {
            pairs_.emplace_back(client, up);
            ++carried_;
          }
        }
      }
      std::vector<std::pair<int, int>> keep(pairs_.begin() + static_cast<std::ptrdiff_t>(polled), pairs_.end());
      for (std::size_t i = 0; i < polled; ++i) {
        const auto [c, u] = pairs_[i];
        bool ok = true;
        if (fds[1 + 2 * i].revents & (POLLIN | POLLHUP | POLLERR)) ok = pass(c, u) && ok;
        if (ok && (fds[2 + 2 * i].revents & (POLLIN | POLLHUP | POLLERR))) ok = pass(u, c) && ok;
        if (ok) {
          keep.emplace_back(c, u);
        } else {
          ::close(c);
          ::close(u);
        }
      }
      pairs_ = std::move(keep);
    }
  }

  int upstream_, port_ = 0, listen_ = -1;
  std::atomic<bool> up_{true}, stop_{false}, held_{false};
  std::atomic<int> carried_{0};
  std::vector<std::pair<int, int>> pairs_;  // the forwarder's thread only
  std::thread thread_;
};

}  // namespace test
