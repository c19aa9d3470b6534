#pragma once
// A Modbus-TCP proxy in front of a device (the simulator's Sol-Ark), as a gateway stands in front
// of an inverter: it forwards every request and reply, logs each request (function, address,
// count), answers the Deye family's device type (holding register 0) itself with the value the
// test sets, and drops its connections when told, so that a reconnect meets "another device"
// (issue 49). One client at a time, on its own thread; every wait bounded.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace test {

class ModbusProxy {
 public:
  struct Request {
    int function, address, count;
  };

  explicit ModbusProxy(int upstream_port, std::uint16_t device_type) : upstream_(upstream_port), type_(device_type) {
    listen_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(listen_, 4);
    thread_ = std::thread([this] { run(); });
  }
  ~ModbusProxy() {
    stop_ = true;
    thread_.join();
    ::close(listen_);
  }
  int port() const { return port_; }
  void set_type(std::uint16_t t) { type_ = t; }
  // Nonzero: the type register is answered with this Modbus exception instead (0x06: busy).
  void set_type_exception(int code) { type_exception_ = code; }
  // Closes the connection it serves (both sides), as a gateway restarting would; back once it
  // has (bounded: 2 s).
  void drop() {
    const int before = closed_;
    drop_ = true;
    for (int i = 0; i < 200 && closed_ == before; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(closed_ > before);
  }
  // The requests since the last mark.
  std::vector<Request> since_mark() {
    std::lock_guard l(m_);
    return std::vector<Request>(log_.begin() + static_cast<std::ptrdiff_t>(mark_), log_.end());
  }
  void mark() {
    std::lock_guard l(m_);
    mark_ = log_.size();
  }

 private:
  static bool read_n(int fd, unsigned char* p, std::size_t n) {
    std::size_t got = 0;
    pollfd q{fd, POLLIN, 0};
    while (got < n) {
      if (::poll(&q, 1, 2000) <= 0) return false;
      const auto r = ::recv(fd, p + got, n - got, 0);
      if (r <= 0) return false;
      got += static_cast<std::size_t>(r);
    }
    return true;
  }
  // One ADU (MBAP header and PDU, Modbus Messaging on TCP/IP V1.0b §3.1.3).
  static bool read_adu(int fd, std::vector<unsigned char>& adu) {
    adu.assign(7, 0);
    if (!read_n(fd, adu.data(), 7)) return false;
    const std::size_t len = static_cast<std::size_t>(adu[4] << 8 | adu[5]);
    if (len < 2 || len > 254) return false;
    adu.resize(6 + len);
    return read_n(fd, adu.data() + 7, len - 1);
  }
  static bool send_all(int fd, const std::vector<unsigned char>& b) {
    return ::send(fd, b.data(), b.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(b.size());
  }
  int connect_upstream() {
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
  void run() {
    while (!stop_) {
      pollfd p{listen_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int client = ::accept(listen_, nullptr, nullptr);
      if (client < 0) continue;
      const int up = connect_upstream();
      drop_ = false;
      std::vector<unsigned char> q, r;
      while (!stop_ && !drop_ && up >= 0) {
        pollfd c{client, POLLIN, 0};
        if (::poll(&c, 1, 50) <= 0) continue;
        if (!read_adu(client, q)) break;
        const int fn = q[7];
        const int address = q.size() >= 10 ? (q[8] << 8 | q[9]) : -1;
        const int count = q.size() >= 12 ? (q[10] << 8 | q[11]) : 0;
        {
          std::lock_guard l(m_);
          log_.push_back({fn, address, count});
        }
        if (fn == 3 && address == 0 && count == 1) {
          const std::uint16_t t = type_;
          const int exception = type_exception_;
          if (exception) r = {q[0], q[1], 0, 0, 0, 3, q[6], 0x83, static_cast<unsigned char>(exception)};
          else r = {q[0], q[1], 0, 0, 0, 5, q[6], 3, 2, static_cast<unsigned char>(t >> 8), static_cast<unsigned char>(t & 0xff)};
          if (!send_all(client, r)) break;
          continue;
        }
        if (!send_all(up, q) || !read_adu(up, r) || !send_all(client, r)) break;
      }
      if (up >= 0) ::close(up);
      ::close(client);
      ++closed_;
    }
  }

  int upstream_, port_ = 0, listen_ = -1;
  std::atomic<std::uint16_t> type_;
  std::atomic<int> type_exception_{0};
  std::atomic<bool> stop_{false}, drop_{false};
  std::atomic<int> closed_{0};
  std::mutex m_;
  std::vector<Request> log_;
  std::size_t mark_ = 0;
  std::thread thread_;
};

}  // namespace test
