// The metrics endpoint's lobby (daemon/metrics/lobby.hpp): connections accepted that have said
// nothing yet, on a real listening socket on loopback, its time given to each turn.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "daemon/metrics/lobby.hpp"
#include "tests/support/loopback.hpp"

using shackd::metrics::Lobby;
using namespace std::chrono_literals;

namespace {

// A listening socket on a free loopback port, without TCP_DEFER_ACCEPT: every connection reaches
// accept(2) at its handshake, as one made on a SYN cookie does.
struct Listener {
  int fd = -1;
  int port = 0;
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 64) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
};

// A client's socket, connected.
int client_of(int port) {
  const int fd = test::loopback_client(port);
  REQUIRE(fd >= 0);
  return fd;
}

int local_port(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

int peer_port(const sockaddr* peer) { return ntohs(reinterpret_cast<const sockaddr_in*>(peer)->sin_port); }

// The server's side closed the client's connection: an end of stream within 2 s.
bool closed_by_server(int client) {
  pollfd p{client, POLLIN, 0};
  char c = 0;
  return ::poll(&p, 1, 2000) == 1 && ::recv(client, &c, 1, 0) == 0;
}

struct Handed {
  int fd;
  int port;
};

// Turns at `now` until the lobby's sockets are quiet (each event is the kernel's, already there when
// the turn looks: loopback delivers in the sender's call), handing over up to `at_most` a turn.
std::vector<Handed> turns(Lobby& lobby, Lobby::Clock::time_point now, std::size_t at_most = 64) {
  std::vector<Handed> out;
  for (int i = 0; i < 5; ++i) {
    lobby.turn(now, at_most, [&](int fd, const sockaddr* peer, socklen_t) { out.push_back({fd, peer_port(peer)}); });
  }
  return out;
}

}  // namespace

TEST_CASE("metrics lobby: a connection is handed over when it speaks, its bytes waiting; one that hangs up is closed") {
  Listener l;
  Lobby lobby(l.fd, {.capacity = 8, .grace = 100ms, .wait = 10s, .accepts_per_turn = 64});
  const auto t0 = Lobby::Clock::now();
  const int silent = client_of(l.port);
  const int speaker = client_of(l.port);
  const int quitter = client_of(l.port);
  CHECK(turns(lobby, t0).empty());
  CHECK(lobby.waiting() == 3);
  REQUIRE(::send(speaker, "GET / HTTP/1.1\r\n", 16, MSG_NOSIGNAL) == 16);
  ::close(quitter);
  const auto handed = turns(lobby, t0 + 1ms);
  REQUIRE(handed.size() == 1);
  CHECK(handed[0].port == local_port(speaker));
  char head[3] = {};
  CHECK(::recv(handed[0].fd, head, 3, 0) == 3);  // its first bytes, there for whoever takes it
  CHECK(std::string(head, 3) == "GET");
  CHECK(lobby.waiting() == 1);  // the silent one; the one that hung up is gone
  CHECK(lobby.closed() == 0);   // neither was closed for silence
  ::close(handed[0].fd);
  ::close(silent);
  ::close(speaker);
}

TEST_CASE("metrics lobby: full, it closes the oldest silent one past its grace for a newcomer, and else accepts none") {
  Listener l;
  Lobby lobby(l.fd, {.capacity = 2, .grace = 100ms, .wait = 10s, .accepts_per_turn = 64});
  const auto t0 = Lobby::Clock::now();
  const int first = client_of(l.port);
  const int second = client_of(l.port);
  const int third = client_of(l.port);
  turns(lobby, t0);
  CHECK(lobby.waiting() == 2);
  CHECK(lobby.accept_fd(t0) == -1);  // full of connections within their grace: the listener is not polled
  CHECK(lobby.next(t0) == t0 + 100ms);
  turns(lobby, t0 + 99ms);
  CHECK(lobby.closed() == 0);  // the newcomer waits in the kernel; nobody is cut before their grace
  // The grace is over: the first one goes for the third, and only one: the second stays, as no
  // other newcomer comes.
  turns(lobby, t0 + 100ms);
  CHECK(lobby.closed() == 1);
  CHECK(lobby.waiting() == 2);
  CHECK(closed_by_server(first));
  // The third was accepted: it speaks and is handed over.
  REQUIRE(::send(third, "GET", 3, MSG_NOSIGNAL) == 3);
  const auto handed = turns(lobby, t0 + 101ms);
  REQUIRE(handed.size() == 1);
  CHECK(handed[0].port == local_port(third));
  ::close(handed[0].fd);
  for (const int fd : {first, second, third}) ::close(fd);
}

TEST_CASE("metrics lobby: silent past its wait it is closed; one that spoke waits for room as long as it takes") {
  Listener l;
  Lobby lobby(l.fd, {.capacity = 8, .grace = 100ms, .wait = 2s, .accepts_per_turn = 64});
  const auto t0 = Lobby::Clock::now();
  const int silent = client_of(l.port);
  const int speaker = client_of(l.port);
  REQUIRE(::send(speaker, "GET", 3, MSG_NOSIGNAL) == 3);
  CHECK(turns(lobby, t0, 0).empty());  // no room where it goes
  CHECK(lobby.next(t0) == t0 + 2s);
  CHECK(turns(lobby, t0 + 2s, 0).empty());
  CHECK(lobby.closed() == 1);
  CHECK(closed_by_server(silent));
  CHECK(lobby.waiting() == 1);
  const auto handed = turns(lobby, t0 + 60s, 1);
  REQUIRE(handed.size() == 1);
  CHECK(handed[0].port == local_port(speaker));
  ::close(handed[0].fd);
  ::close(silent);
  ::close(speaker);
}

TEST_CASE("metrics lobby: closing the listener closes the silent ones; one that spoke is handed over") {
  Listener l;
  const int port = l.port;
  Lobby lobby(l.fd, {.capacity = 8, .grace = 100ms, .wait = 10s, .accepts_per_turn = 64});
  const auto t0 = Lobby::Clock::now();
  const int silent = client_of(port);
  const int speaker = client_of(port);
  REQUIRE(::send(speaker, "GET", 3, MSG_NOSIGNAL) == 3);
  turns(lobby, t0, 0);
  lobby.close_listener();
  CHECK(lobby.accept_fd(t0) == -1);
  CHECK(closed_by_server(silent));
  const auto handed = turns(lobby, t0 + 1ms);
  REQUIRE(handed.size() == 1);
  CHECK(handed[0].port == local_port(speaker));
  // Nobody listens there any more: a new connection is refused.
  CHECK(test::loopback_client(port) == -1);
  ::close(handed[0].fd);
  ::close(silent);
  ::close(speaker);
}

// accept(2) out of descriptors (EMFILE) leaves the connection in the kernel's queue and the
// listening socket readable: polled again at once, it would spin. The lobby waits 100 ms instead.
TEST_CASE("metrics lobby: out of descriptors, it stops accepting for a moment, then accepts again") {
  Listener l;
  Lobby lobby(l.fd, {.capacity = 8, .grace = 100ms, .wait = 10s, .accepts_per_turn = 64});
  const int client = client_of(l.port);
  rlimit was{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &was) == 0);
  const int lowest_free = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(lowest_free >= 0);
  ::close(lowest_free);
  // No descriptor left below the limit: the next accept(2) fails with EMFILE.
  rlimit none = was;
  none.rlim_cur = static_cast<rlim_t>(lowest_free);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &none) == 0);
  const auto t0 = Lobby::Clock::now();
  lobby.turn(t0, 64, [](int, const sockaddr*, socklen_t) {});
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &was) == 0);
  CHECK(lobby.waiting() == 0);
  CHECK(lobby.accept_fd(t0) == -1);           // not polled while it waits
  CHECK(lobby.next(t0) == t0 + 100ms);        // a turn is due when the pause ends
  turns(lobby, t0 + 99ms);
  CHECK(lobby.waiting() == 0);
  turns(lobby, t0 + 100ms);
  CHECK(lobby.waiting() == 1);                // the connection the kernel kept
  CHECK(lobby.closed() == 0);
  ::close(client);
}
