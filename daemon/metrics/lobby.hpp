#pragma once
// Connections the metrics endpoint has accepted that have said nothing yet (daemon/metrics/server.hpp).
//
// The kernel holds a connection back until its first bytes (TCP_DEFER_ACCEPT, tcp(7)), but not one
// it let in on a SYN cookie: when the listen queue overflows (net.ipv4.tcp_syncookies = 1, Debian's
// default) the handshake's state rides in the cookie, and the connection is made at the client's
// ACK with nothing said. e2e hostile_peers opens 10,000 silent connections at once ("Possible SYN
// flooding ... Sending cookies" in dmesg): a scrape made that way, accepted the moment before its
// request came, was closed as the oldest silent connection to make room for the crowd (CI once;
// here 3 runs in 36 beside four busy loops, the server's log showing it cut with nothing unread).
//
// Here such a connection waits holding its socket and nothing else (no parser, no memory pool) until
// it speaks, then it is handed over with its first bytes waiting. One that hangs up, or is silent
// past `wait`, is closed. At most `capacity` wait: a full lobby closes the oldest one that has had
// `grace` to speak for a newcomer, and when none has, it accepts no more until one has (the kernel
// holds the rest). A client sends its request with its handshake's last packet: the grace is for a
// loaded client's scheduling, and `capacity / grace` is how many silent connections a second the
// lobby sees through.
#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace shackd::metrics {

// Bytes the peer sent that nobody has read yet (FIONREAD, tcp(7)); an error counts as none.
bool has_unread(int fd);

class Lobby {
 public:
  using Clock = std::chrono::steady_clock;
  struct Limits {
    std::size_t capacity = 256;  // sockets: under systemd's default soft limit of 1,024 with the rest
    Clock::duration grace = std::chrono::milliseconds(100);
    Clock::duration wait = std::chrono::seconds(2);  // the request's own time-out (ServerOptions)
    std::size_t accepts_per_turn = 64;
  };
  // Takes a connection that spoke: its socket (the callee's from then) and its peer's address.
  using Hand = std::function<void(int fd, const sockaddr* peer, socklen_t peer_len)>;

  // Owns `listen_fd` (non-blocking) from here; throws std::runtime_error when epoll cannot be had.
  Lobby(int listen_fd, Limits limits);
  ~Lobby();  // closes the listening socket and every connection still here
  Lobby(const Lobby&) = delete;
  Lobby& operator=(const Lobby&) = delete;

  // Readable when a connection here has spoken or hung up (an epoll set: poll it).
  int ready_fd() const { return epoll_fd_; }
  // The listening socket while the lobby would accept from it at `now` (poll it then), else -1.
  int accept_fd(Clock::time_point now) const;
  // One turn at `now`: notes who spoke, closes who hung up or waited too long, accepts what there
  // is room for, and hands over up to `at_most` of those that spoke, oldest first.
  void turn(Clock::time_point now, std::size_t at_most, const Hand& hand);
  // When a turn is due with no socket's event: a wait's end, a grace's end while full, the end of
  // a pause for want of descriptors; Clock::time_point::max() if none.
  Clock::time_point next(Clock::time_point now) const;
  // Closes the listening socket and the connections that have said nothing; those that have are
  // still handed over.
  void close_listener();
  std::size_t waiting() const { return held_.size(); }
  // Silent ones closed: their wait over, or to make room for a newcomer.
  std::uint64_t closed() const { return closed_; }

 private:
  struct Held {
    int fd = -1;
    Clock::time_point since{};
    bool spoke = false;
    sockaddr_storage peer{};
    socklen_t peer_len = 0;
  };
  void note_events();
  void accept_some(Clock::time_point now);
  bool full_of_young(Clock::time_point now) const;
  void drop(std::size_t i);

  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  Limits limits_;
  std::vector<Held> held_;  // in the order accepted
  Clock::time_point paused_until_{};  // out of file descriptors: accept(2) tried again from then
  std::uint64_t closed_ = 0;
};

}  // namespace shackd::metrics
