#include "drivers/miners/socket_io.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace drivers::miners {

Cancel::Cancel() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd for a miner's exchange");
}
Cancel::~Cancel() { ::close(fd_); }
void Cancel::cancel() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(fd_, &one, sizeof one);
}
bool Cancel::cancelled() const {
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;  // never read: it stays set
}

Fd::~Fd() {
  if (fd >= 0) ::close(fd);
}

namespace {

int left_ms(IoClock::time_point deadline) {
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(deadline - IoClock::now()).count();
  return ms > 0 ? static_cast<int>(ms) : 0;
}

// Waits for `events` on fd, the cancel or the deadline, whichever first.
void wait_for(int fd, short events, const Io& io, const char* what) {
  pollfd p[2] = {{fd, events, 0}, {io.cancel ? io.cancel->fd() : -1, POLLIN, 0}};
  for (;;) {
    const int n = ::poll(p, io.cancel ? 2 : 1, left_ms(io.deadline));
    if (n > 0 && io.cancel && (p[1].revents & POLLIN)) throw std::runtime_error("stopping");
    if (n > 0) return;
    if (n == 0) {
      throw std::runtime_error(std::string(what) + ": timed out (the whole exchange has " +
                               std::to_string(io.budget.count()) + " ms)");
    }
    if (errno != EINTR) throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
  }
}

}  // namespace

int connect_to(const std::string& host, int port, const Io& io) {
  if (io.cancel && io.cancel->cancelled()) throw std::runtime_error("stopping");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  // getaddrinfo blocks on DNS: it runs on the miner's own worker thread, never the loop's.
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
      wait_for(s.fd, POLLOUT, io, "connect");
    } catch (const std::exception& e) {
      last = e.what();
      if (last == "stopping") break;
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

void send_all(int fd, const std::string& data, const Io& io) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    wait_for(fd, POLLOUT, io, "send");
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
}

bool receive_some(int fd, std::string& out, std::size_t max_bytes, const Io& io, const char* what) {
  wait_for(fd, POLLIN, io, what);
  char buf[4096];
  // Never more than the bound lets in: the reply is refused at max_bytes + 1, not after a
  // buffer's worth more.
  const std::size_t room = max_bytes + 1 > out.size() ? max_bytes + 1 - out.size() : 1;
  const ssize_t n = ::recv(fd, buf, std::min(sizeof buf, room), 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return true;
    throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
  }
  if (n == 0) return false;
  out.append(buf, static_cast<std::size_t>(n));
  if (out.size() > max_bytes) {
    const std::string size = max_bytes % (1u << 20) == 0 ? std::to_string(max_bytes >> 20) + " MiB"
                                                         : std::to_string(max_bytes >> 10) + " KiB";
    throw std::runtime_error(std::string(what) + ": over " + size + ", refused (a miner's reply is a few kB)");
  }
  return true;
}

}  // namespace drivers::miners
