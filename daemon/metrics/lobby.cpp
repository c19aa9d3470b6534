#include "daemon/metrics/lobby.hpp"

#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace shackd::metrics {

namespace {

// accept(2) out of descriptors or memory: tried again after this, not at once (the listening
// socket stays readable, and a poll on it would spin).
constexpr auto kPauseWhenOut = std::chrono::milliseconds(100);

}  // namespace

bool has_unread(int fd) {
  int n = 0;
  return fd >= 0 && ::ioctl(fd, FIONREAD, &n) == 0 && n > 0;
}

Lobby::Lobby(int listen_fd, Limits limits) : listen_fd_(listen_fd), limits_(limits) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    const std::string why = std::strerror(errno);
    ::close(listen_fd_);
    throw std::runtime_error("metrics: epoll_create1: " + why);
  }
  held_.reserve(limits_.capacity);
}

Lobby::~Lobby() {
  for (const Held& h : held_) ::close(h.fd);
  if (listen_fd_ >= 0) ::close(listen_fd_);
  ::close(epoll_fd_);
}

bool Lobby::full_of_young(Clock::time_point now) const {
  if (held_.size() < limits_.capacity) return false;
  // The first silent one is the oldest (held_ is in the order accepted).
  const auto oldest = std::find_if(held_.begin(), held_.end(), [](const Held& h) { return !h.spoke; });
  return oldest == held_.end() || now < oldest->since + limits_.grace;
}

int Lobby::accept_fd(Clock::time_point now) const {
  if (listen_fd_ < 0 || now < paused_until_ || full_of_young(now)) return -1;
  return listen_fd_;
}

void Lobby::drop(std::size_t i) {
  ::close(held_[i].fd);  // leaves the epoll set with it
  held_.erase(held_.begin() + static_cast<std::ptrdiff_t>(i));
}

void Lobby::note_events() {
  epoll_event events[64];
  for (;;) {
    const int n = ::epoll_wait(epoll_fd_, events, 64, 0);
    if (n <= 0) return;
    for (int k = 0; k < n; ++k) {
      const int fd = events[k].data.fd;
      const auto it = std::find_if(held_.begin(), held_.end(), [&](const Held& h) { return h.fd == fd; });
      if (it == held_.end()) continue;
      // Out of the set: it is ready, and stays so until handed over (no spin while it waits).
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
      if (has_unread(fd)) {
        it->spoke = true;
      } else {
        drop(static_cast<std::size_t>(it - held_.begin()));  // hung up (or an error) with nothing said
      }
    }
    if (n < 64) return;
  }
}

void Lobby::accept_some(Clock::time_point now) {
  for (std::size_t k = 0; k < limits_.accepts_per_turn && accept_fd(now) >= 0; ++k) {
    Held h;
    h.peer_len = sizeof h.peer;
    h.fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&h.peer), &h.peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (h.fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) paused_until_ = now + kPauseWhenOut;
      // EAGAIN: none waiting. ECONNABORTED and the network's errors (accept(2)): that one is gone,
      // the next turn tries again.
      return;
    }
    if (held_.size() >= limits_.capacity) {
      // Full, and the oldest silent one has had its grace (accept_fd): it goes for the newcomer.
      const auto oldest = std::find_if(held_.begin(), held_.end(), [](const Held& o) { return !o.spoke; });
      drop(static_cast<std::size_t>(oldest - held_.begin()));
      ++closed_;
    }
    h.since = now;
    epoll_event e{};
    e.events = EPOLLIN | EPOLLRDHUP;
    e.data.fd = h.fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, h.fd, &e) != 0) {
      ::close(h.fd);  // no memory to watch it: as if it had never come
      continue;
    }
    held_.push_back(h);
  }
}

void Lobby::turn(Clock::time_point now, std::size_t at_most, const Hand& hand) {
  note_events();
  for (std::size_t i = 0; i < held_.size();) {
    if (!held_[i].spoke && now >= held_[i].since + limits_.wait) {
      drop(i);
      ++closed_;
    } else {
      ++i;
    }
  }
  accept_some(now);
  note_events();  // what came with its first bytes already there
  std::size_t handed = 0;
  for (std::size_t i = 0; i < held_.size() && handed < at_most;) {
    if (!held_[i].spoke) {
      ++i;
      continue;
    }
    const Held h = held_[i];
    held_.erase(held_.begin() + static_cast<std::ptrdiff_t>(i));
    hand(h.fd, reinterpret_cast<const sockaddr*>(&h.peer), h.peer_len);
    ++handed;
  }
}

Lobby::Clock::time_point Lobby::next(Clock::time_point now) const {
  const auto oldest = std::find_if(held_.begin(), held_.end(), [](const Held& h) { return !h.spoke; });
  Clock::time_point at = Clock::time_point::max();
  if (oldest != held_.end()) {
    at = oldest->since + (held_.size() >= limits_.capacity ? limits_.grace : limits_.wait);
  }
  if (listen_fd_ >= 0 && now < paused_until_) at = std::min(at, paused_until_);
  return at;
}

void Lobby::close_listener() {
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  for (std::size_t i = 0; i < held_.size();) {
    if (held_[i].spoke) {
      ++i;
    } else {
      drop(i);
    }
  }
}

}  // namespace shackd::metrics
