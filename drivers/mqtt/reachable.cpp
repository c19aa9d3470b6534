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

std::optional<BrokerAddress> parse_broker_uri(const std::string& uri, std::string& why) {
  BrokerAddress b;
  if (uri.rfind("ssl://", 0) == 0) b.tls = true;
  else if (uri.rfind("tcp://", 0) != 0) {
    why = "mqtt: uri '" + uri + "' must start with tcp:// or ssl://";
    return std::nullopt;
  }
  std::string rest = uri.substr(6);
  if (const auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  std::string port = b.tls ? "8883" : "1883";
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string::npos) {
      why = "mqtt: uri '" + uri + "': a bracketed IPv6 address without its ']'";
      return std::nullopt;
    }
    b.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
    b.host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  } else {
    b.host = rest;
  }
  if (b.host.empty() || port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) < 1 || std::stoi(port) > 65535) {
    why = "mqtt: uri '" + uri + "' needs a host and a port of 1 to 65535";
    return std::nullopt;
  }
  b.port = std::stoi(port);
  return b;
}

std::optional<std::string> tcp_unreachable(const BrokerAddress& broker, std::chrono::milliseconds bound,
                                           std::chrono::milliseconds settle) {
  const std::string& host = broker.host;
  const std::string port = std::to_string(broker.port);
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
