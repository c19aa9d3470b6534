#include "drivers/miners/tcp_exchange.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "drivers/miners/json_frame.hpp"

namespace drivers::miners {

namespace {
constexpr std::size_t kMaxReply = 1 << 20;
using Clock = std::chrono::steady_clock;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

int left_ms(Clock::time_point deadline) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return ms > 0 ? static_cast<int>(ms) : 0;
}

void wait_for(int fd, short events, Clock::time_point deadline, const char* what) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int n = ::poll(&p, 1, left_ms(deadline));
    if (n > 0) return;
    if (n == 0) throw std::runtime_error(std::string(what) + ": timed out");
    if (errno != EINTR) throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
  }
}

int connect_to(const std::string& host, int port, Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  // getaddrinfo blocks on DNS: the config is checked for host names, and this runs on the
  // miner's own worker thread, never the loop's.
  if (const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0) {
    throw std::runtime_error("resolve " + host + ": " + ::gai_strerror(rc));
  }
  std::string last = "no address";
  for (addrinfo* a = found; a; a = a->ai_next) {
    Fd s{::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol)};
    if (s.fd < 0) continue;
    if (::connect(s.fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last = std::strerror(errno);
      continue;
    }
    try {
      wait_for(s.fd, POLLOUT, deadline, "connect");
    } catch (const std::exception& e) {
      last = e.what();
      continue;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      last = std::string("connect: ") + std::strerror(err);
      continue;
    }
    ::freeaddrinfo(found);
    const int fd = s.fd;
    s.fd = -1;
    return fd;
  }
  ::freeaddrinfo(found);
  throw std::runtime_error(last);
}

void send_all(int fd, const std::string& data, Clock::time_point deadline) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    wait_for(fd, POLLOUT, deadline, "send");
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
}

// Appends what arrives to `out`; false at the close.
bool receive_some(int fd, std::string& out, Clock::time_point deadline) {
  wait_for(fd, POLLIN, deadline, "reply");
  char buf[4096];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return true;
    throw std::runtime_error(std::string("reply: ") + std::strerror(errno));
  }
  if (n == 0) return false;
  out.append(buf, static_cast<std::size_t>(n));
  if (out.size() > kMaxReply) throw std::runtime_error("reply: over 1 MiB");
  return true;
}

std::uint32_t le32(const std::string& s) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[static_cast<std::size_t>(i)]);
  return v;
}
}  // namespace

Exchange tcp_exchange(std::string host, int port, MinerKind::Framing framing, std::chrono::milliseconds timeout) {
  return [host = std::move(host), port, framing, timeout](const std::string& request) {
    const auto deadline = Clock::now() + timeout;
    Fd s{connect_to(host, port, deadline)};
    std::string out;
    if (framing == MinerKind::Framing::length_le32) {
      std::string frame(4, '\0');
      for (int i = 0; i < 4; ++i) frame[static_cast<std::size_t>(i)] = static_cast<char>((request.size() >> (8 * i)) & 0xff);
      send_all(s.fd, frame + request, deadline);
      while (out.size() < 4) {
        if (!receive_some(s.fd, out, deadline)) throw std::runtime_error("reply: closed before its length");
      }
      const std::uint32_t n = le32(out);
      if (n > kMaxReply) throw std::runtime_error("reply: a length of " + std::to_string(n) + " bytes, over 1 MiB");
      while (out.size() < 4 + n) {
        if (!receive_some(s.fd, out, deadline)) throw std::runtime_error("reply: closed before its end");
      }
      return out.substr(4, n);
    }
    send_all(s.fd, request, deadline);
    // A bare JSON object (Whatsminer v2) ends where it closes: its miner need not close first.
    JsonObjectEnd object;
    std::size_t end = std::string::npos;
    const bool bare = framing == MinerKind::Framing::json_object;
    while (out.find('\0') == std::string::npos && !(bare && (end = object.feed(out)) != std::string::npos) &&
           receive_some(s.fd, out, deadline)) {
    }
    if (end != std::string::npos) out.resize(end);
    if (const auto nul = out.find('\0'); nul != std::string::npos) out.resize(nul);
    if (out.empty()) throw std::runtime_error("reply: closed with nothing");
    return out;
  };
}

}  // namespace drivers::miners
