#include "drivers/mqtt/reachable.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace drivers::mqtt {

namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

int ms(std::chrono::steady_clock::duration d) {
  return static_cast<int>(std::max<long long>(0, std::chrono::duration_cast<std::chrono::milliseconds>(d).count()));
}

}  // namespace

std::optional<std::string> tcp_unreachable(const std::string& uri, std::chrono::milliseconds bound,
                                           std::chrono::milliseconds settle) {
  const bool tls = uri.rfind("ssl://", 0) == 0;
  std::string rest = uri.substr(uri.find("://") == std::string::npos ? 0 : uri.find("://") + 3);
  if (const auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  std::string host = rest, port = tls ? "8883" : "1883";
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string::npos) return "a bracketed IPv6 address without its ']'";
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return "cannot resolve " + host + ": " + gai_strerror(rc);
  }
  std::string why = "no address for " + host;
  const auto until = std::chrono::steady_clock::now() + bound;
  for (const addrinfo* a = found; a; a = a->ai_next) {
    Fd s{::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol)};
    if (s.fd < 0) continue;
    if (::connect(s.fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      why = std::strerror(errno);
      continue;
    }
    pollfd p{s.fd, POLLOUT, 0};
    if (::poll(&p, 1, ms(until - std::chrono::steady_clock::now())) <= 0) {
      why = "no answer within " + std::to_string(bound.count()) + " ms";
      continue;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      why = std::strerror(err);
      continue;
    }
    // A broker says nothing before our CONNECT: a connection that ends at once was taken by
    // something in front of a broker that is away.
    pollfd r{s.fd, POLLIN, 0};
    if (::poll(&r, 1, ms(settle)) > 0) {
      char c = 0;
      if (::recv(s.fd, &c, 1, MSG_PEEK) <= 0) {
        why = "the connection was closed at once (a forwarder whose broker is away)";
        continue;
      }
    }
    ::freeaddrinfo(found);
    return std::nullopt;
  }
  ::freeaddrinfo(found);
  return why;
}

}  // namespace drivers::mqtt
