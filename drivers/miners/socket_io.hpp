#pragma once
// Bounded socket I/O for the miners' exchanges (tcp_exchange.cpp, http_exchange.cpp): one
// deadline for the whole exchange, not one per read, so a peer that sends a byte every half second
// cannot stretch an exchange past it; a Cancel ends any wait at once (a stopping daemon joins its
// miners' workers: it must never wait out a slow peer).
#include <chrono>
#include <memory>
#include <string>

namespace drivers::miners {

using IoClock = std::chrono::steady_clock;

// Set once by whoever stops the exchange's owner; every wait of an exchange that holds it ends
// with std::runtime_error("stopping") from then on. Thread-safe: an eventfd.
class Cancel {
 public:
  Cancel();
  ~Cancel();
  Cancel(const Cancel&) = delete;
  Cancel& operator=(const Cancel&) = delete;
  void cancel();
  bool cancelled() const;
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

struct Io {
  IoClock::time_point deadline;
  std::chrono::milliseconds budget{0};  // the whole exchange's, for messages
  const Cancel* cancel = nullptr;
};

// A non-blocking TCP connection to host:port within io's deadline. Throws std::runtime_error.
int connect_to(const std::string& host, int port, const Io& io);
void send_all(int fd, const std::string& data, const Io& io);
// Appends what one recv() returns to `out`; false at the peer's close. Throws at the deadline, on
// a cancel, on an error, or when `out` would pass `max_bytes` (`what` names it in the message).
bool receive_some(int fd, std::string& out, std::size_t max_bytes, const Io& io, const char* what);

// Closes the fd it holds.
struct Fd {
  int fd = -1;
  ~Fd();
};

}  // namespace drivers::miners
