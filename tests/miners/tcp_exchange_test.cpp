// The miner clients on the wire: the simulator's miner served on loopback as shackd-sim serves it
// (sim/miner_server.hpp: each kind's framing, HTTP behind cpp-httplib's server); a miner that
// accepts and never answers costs one timeout, not a hang.
#include <doctest/doctest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

#include "drivers/miners/http_exchange.hpp"
#include "drivers/miners/identify.hpp"
#include "drivers/miners/tcp_exchange.hpp"
#include "sim/miner_model.hpp"
#include "sim/miner_server.hpp"

namespace {

// Accepts one connection and says nothing, until the client gives up and closes (bounded: 2 s).
class SilentMiner {
 public:
  SilentMiner() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 4);
    thread_ = std::thread([this] {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[256];
      pollfd p{c, POLLIN, 0};
      while (::poll(&p, 1, 2000) > 0 && ::recv(c, buf, sizeof buf, 0) > 0) {
      }
      ::close(c);
    });
  }
  ~SilentMiner() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

// The simulator's miner on loopback, as shackd-sim --miner serves it (sim/miner_server.hpp): in
// its kind's own framing, HTTP for Braiins OS.
struct OnLoopback {
  explicit OnLoopback(sim::MinerModel& model) : server("127.0.0.1", 0, model, mutex) { server.start(); }
  int port() const { return server.port(); }
  long requests() const { return server.requests(); }
  std::mutex mutex;
  sim::MinerServer server;
};

sim::MinerModel mining(const char* kind) {
  sim::MinerModel m;
  m.kind = drivers::miners::find_miner_kind(kind);
  m.advance(1, true);
  m.advance(m.boot_s, true);
  m.advance(m.ramp_s, true);
  return m;
}

}  // namespace

TEST_CASE("LuxOS over TCP: its telemetry read, and curtail sleep in a session") {
  auto model = mining("luxos");
  drivers::miners::MinerConfig c;
  c.kind = model.kind;
  OnLoopback server(model);
  auto api = c.kind->make(c, drivers::miners::tcp_exchange("127.0.0.1", server.port(), c.kind->framing, std::chrono::seconds(2)));
  const auto t = api->read();
  REQUIRE_MESSAGE(t.answered, t.error);
  CHECK(t.state == drivers::miners::MinerState::mining);
  CHECK(*t.power_w == doctest::Approx(3250));
  CHECK(*t.hashrate_ths == doctest::Approx(95));
  CHECK(t.firmware.starts_with("LUXminer"));
  CHECK(*t.max_temp_c == doctest::Approx(76));  // its hottest board corner at full ramp
  CHECK(*t.hot_temp_c == doctest::Approx(90));  // tempctrl's Hot
  const auto r = api->sleep();
  CHECK_MESSAGE(r.ok, r.detail);
  CHECK(model.sleeps == 1);
  // version, power, summary, temps, tempctrl, fans, config, atm; logon, curtail, logoff
  CHECK(server.requests() == 8 + 3);
}

TEST_CASE("Whatsminer API v3 over TCP, length-framed: a signed stop") {
  auto model = mining("whatsminer");
  drivers::miners::MinerConfig c;
  c.kind = model.kind;
  c.password = model.password;
  OnLoopback server(model);
  auto api = c.kind->make(c, drivers::miners::tcp_exchange("127.0.0.1", server.port(), c.kind->framing, std::chrono::seconds(2)));
  const auto t = api->read();
  REQUIRE_MESSAGE(t.answered, t.error);
  CHECK(*t.power_w == doctest::Approx(3250));
  const auto r = api->sleep();
  CHECK_MESSAGE(r.ok, r.detail);
  CHECK(model.sleeps == 1);
  CHECK(server.requests() == 3 + 2);  // summary, edevs, device info; salt, service stop
}

TEST_CASE("Whatsminer API v2 over TCP, bare JSON: its telemetry, an encrypted power_off and a power percent") {
  auto model = mining("whatsminer_v2");
  drivers::miners::MinerConfig c;
  c.kind = model.kind;
  c.password = model.password;
  c.rated_w = 3250;
  OnLoopback server(model);
  auto api = c.kind->make(c, drivers::miners::tcp_exchange("127.0.0.1", server.port(), c.kind->framing, std::chrono::seconds(2)));
  const auto t = api->read();
  REQUIRE_MESSAGE(t.answered, t.error);
  CHECK(*t.power_w == doctest::Approx(3250));
  CHECK(t.state == drivers::miners::MinerState::mining);
  const auto pct = api->set_power_target(1625);
  CHECK_MESSAGE(pct.ok, pct.detail);
  CHECK(model.last_target_command == "set_power_pct_v2 50");
  const auto r = api->sleep();
  CHECK_MESSAGE(r.ok, r.detail);
  CHECK(model.sleeps == 1);
  CHECK(model.refused == 0);
  // get_version, summary, devs, status; get_token, the percent, power_off
  CHECK(server.requests() == 4 + 3);
}

TEST_CASE("a bare JSON reply is complete where its object closes, though its miner keeps the connection open") {
  // btminer's v2 API closes an idle connection after 10 s (S3 §4): a client waiting for the close
  // would wait that long for every command.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::listen(fd, 4);
  std::thread miner([fd] {
    const int c = ::accept(fd, nullptr, nullptr);
    if (c < 0) return;
    char buf[256];
    pollfd p{c, POLLIN, 0};
    if (::poll(&p, 1, 2000) > 0 && ::recv(c, buf, sizeof buf, 0) > 0) {
      const std::string reply = R"({"STATUS":"S","Code":131,"Msg":{"a":"}{"}})";
      ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
    }
    while (::poll(&p, 1, 2000) > 0 && ::recv(c, buf, sizeof buf, 0) > 0) {  // open until the client closes
    }
    ::close(c);
  });
  const auto exchange = drivers::miners::tcp_exchange("127.0.0.1", ntohs(a.sin_port), drivers::miners::MinerKind::Framing::json_object,
                                                      std::chrono::milliseconds(1500));
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(exchange(R"({"cmd":"status"})") == R"({"STATUS":"S","Code":131,"Msg":{"a":"}{"}})");
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1000));  // not its timeout
  miner.join();
  ::close(fd);
}

TEST_CASE("a miner that accepts and never answers costs one timeout; a closed port is refused") {
  auto model = mining("luxos");
  SilentMiner server;
  const auto silent = drivers::miners::tcp_exchange("127.0.0.1", server.port(), model.kind->framing, std::chrono::milliseconds(150));
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(silent("{\"command\":\"power\"}"), "reply: timed out (the whole exchange has 150 ms)");
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
  const auto closed = drivers::miners::tcp_exchange("127.0.0.1", 1, model.kind->framing, std::chrono::milliseconds(500));
  CHECK_THROWS(closed("{\"command\":\"power\"}"));
}


TEST_CASE("Braiins OS over HTTP: a login, its telemetry, a pause and a power target") {
  auto model = mining("braiins");
  drivers::miners::MinerConfig c;
  c.kind = model.kind;
  c.password = model.password;
  OnLoopback server(model);
  auto api = c.kind->make(c, drivers::miners::http_exchange("127.0.0.1", server.port(), std::chrono::seconds(2)));
  const auto t = api->read();
  REQUIRE_MESSAGE(t.answered, t.error);
  CHECK(t.state == drivers::miners::MinerState::mining);
  CHECK(*t.power_w == doctest::Approx(3250));
  CHECK(*t.hashrate_ths == doctest::Approx(95));
  CHECK(*t.max_temp_c == doctest::Approx(75));
  CHECK(*t.power_target_w == doctest::Approx(3250));
  CHECK(*t.hot_temp_c == doctest::Approx(90));  // its cooling configuration's hot_temperature
  CHECK(t.firmware == "Braiins OS 26.08.1-sim");
  const auto target = api->set_power_target(2400);
  CHECK_MESSAGE(target.ok, target.detail);
  CHECK(model.target_w == 2400);
  const auto out_of_range = api->set_power_target(9000);
  CHECK_FALSE(out_of_range.ok);
  CHECK(out_of_range.detail.find("HTTP 400") != std::string::npos);
  const auto r = api->sleep();
  CHECK_MESSAGE(r.ok, r.detail);
  CHECK(model.sleeps == 1);
  CHECK(model.refused == 0);  // one login, the token sent back each time
  CHECK(server.requests() == 1 + 5 + 2 + 1);  // login; details, stats, cooling, config, mode; two targets; pause
}

TEST_CASE("Braiins OS: a wrong password is said as such, and nothing is written") {
  auto model = mining("braiins");
  drivers::miners::MinerConfig c;
  c.kind = model.kind;
  c.password = "not-it";
  OnLoopback server(model);
  auto api = c.kind->make(c, drivers::miners::http_exchange("127.0.0.1", server.port(), std::chrono::seconds(2)));
  const auto t = api->read();
  CHECK_FALSE(t.answered);
  CHECK(t.error.find("login as root: HTTP 401 (wrong user or password?)") != std::string::npos);
  const auto r = api->sleep();
  CHECK_FALSE(r.ok);
  CHECK(model.sleeps == 0);
}

TEST_CASE("an HTTP miner that accepts and never answers costs one timeout") {
  auto model = mining("luxos");
  SilentMiner server;
  const auto silent = drivers::miners::http_exchange("127.0.0.1", server.port(), std::chrono::milliseconds(150));
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS(silent(drivers::miners::encode(drivers::miners::HttpRequest{"GET", "/api/v1/miner/stats", "", ""})));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
}

TEST_CASE("probe --miner: each firmware is found by its own protocol on the port given, with its target range") {
  // LuxOS and Whatsminer are asked first; against an HTTP server each costs one timeout: short
  // here, on loopback.
  constexpr auto kTimeout = std::chrono::milliseconds(500);
  SUBCASE("Braiins OS: without its password found and says so; with it, its telemetry and range, read-only") {
    auto model = mining("braiins");
    OnLoopback server(model);
    const auto locked = drivers::miners::identify_miner("127.0.0.1", server.port(), "", kTimeout);
    REQUIRE(locked.kind);
    CHECK(locked.kind->key == "braiins");
    CHECK(locked.needs_password);
    CHECK_FALSE(locked.range);
    const auto r = drivers::miners::identify_miner("127.0.0.1", server.port(), model.password, kTimeout);
    REQUIRE(r.kind);
    CHECK(r.kind->key == "braiins");
    CHECK_FALSE(r.needs_password);
    CHECK(*r.telemetry.power_w == doctest::Approx(3250));
    REQUIRE(r.range);
    CHECK(r.range->min_w == 800);
    CHECK(r.range->max_w == 3600);
    CHECK(model.sleeps == 0);
    CHECK(model.target_writes == 0);
  }
  SUBCASE("LuxOS, with its power targets from atm") {
    auto model = mining("luxos");
    OnLoopback server(model);
    const auto r = drivers::miners::identify_miner("127.0.0.1", server.port(), "", kTimeout);
    REQUIRE(r.kind);
    CHECK(r.kind->key == "luxos");
    CHECK(r.telemetry.firmware.starts_with("LUXminer"));
    REQUIRE(r.range);
    CHECK(r.range->min_w == 800);
    CHECK(r.range->max_w == 3600);
    CHECK(model.target_writes == 0);
  }
  SUBCASE("Whatsminer API v3 and API v2 told apart, each with its rated power") {
    auto v3 = mining("whatsminer");
    OnLoopback s3(v3);
    const auto r3 = drivers::miners::identify_miner("127.0.0.1", s3.port(), "", kTimeout);
    REQUIRE(r3.kind);
    CHECK(r3.kind->key == "whatsminer");
    REQUIRE(r3.range);
    CHECK(r3.range->max_w == 3250);
    auto v2 = mining("whatsminer_v2");
    OnLoopback s2(v2);
    const auto r2 = drivers::miners::identify_miner("127.0.0.1", s2.port(), "", kTimeout);
    REQUIRE(r2.kind);
    CHECK(r2.kind->key == "whatsminer_v2");
    CHECK(r2.telemetry.firmware == "Whatsminer API v2 2.0.5, firmware 20230911.22.REL");
    CHECK(r2.tried.find("luxos on") != std::string::npos);  // the LuxOS client's questions got no LuxOS answer
    REQUIRE(r2.range);
    CHECK(r2.range->max_w == 3250);
    CHECK(v2.sleeps + v2.target_writes + v3.sleeps + v3.target_writes == 0);
  }
  SUBCASE("nothing there: each kind's answer is said") {
    const auto r = drivers::miners::identify_miner("127.0.0.1", 1, "", kTimeout);
    CHECK_FALSE(r.kind);
    CHECK(r.tried.find("luxos on 1:") != std::string::npos);
    CHECK(r.tried.find("braiins on 1:") != std::string::npos);
  }
}

// --- Issue 49: every reply bounded while it is read, in size and in time for the whole exchange.

namespace {

// Accepts one connection, reads the request's head, then hands the socket to `speak` (on its own
// thread) until it returns or the client goes; counts the bytes it got out.
class ScriptedPeer {
 public:
  explicit ScriptedPeer(std::function<void(int fd, std::atomic<bool>& stop)> speak) : speak_(std::move(speak)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 4);
    thread_ = std::thread([this] {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 10000) <= 0) return;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string head;
      char buf[1024];
      pollfd q{c, POLLIN, 0};
      while (head.find("\r\n\r\n") == std::string::npos && ::poll(&q, 1, 2000) > 0) {
        const auto n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        head.append(buf, static_cast<std::size_t>(n));
      }
      speak_(c, stop_);
      ::close(c);
    });
  }
  ~ScriptedPeer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }

 private:
  std::function<void(int, std::atomic<bool>&)> speak_;
  std::atomic<bool> stop_{false};
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

// Sends all of `s`, false once the client has gone (or after 2 s without room).
bool send_all(int fd, const std::string& s) {
  std::size_t sent = 0;
  while (sent < s.size()) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 2000) <= 0) return false;
    const auto n = ::send(fd, s.data() + sent, s.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

std::string stats_request() {
  return drivers::miners::encode(drivers::miners::HttpRequest{"GET", "/api/v1/miner/stats", "", ""});
}

}  // namespace

// The reply's framing and bounds (issue 49), over the wire through the exchange (libcurl's since
// issue 58: these were our own reader's, fed a byte at a time; the bounds and their words are the
// same).
TEST_CASE("HTTP replies: each framing whole, each bound refused as it is passed") {
  using drivers::miners::decode_reply;
  // The peer sends `wire` (in pieces of `piece` bytes) and closes.
  // `deadline`: the exchange's; long enough for a CPU under qemu-user (the cross trees' unit label)
  // to take 6 MiB of one-byte chunks, which took more than 5 s there.
  const auto exchange = [](const std::string& wire, std::size_t piece = 1 << 20,
                           std::chrono::milliseconds deadline = std::chrono::seconds(5)) {
    ScriptedPeer peer([&](int fd, std::atomic<bool>&) {
      for (std::size_t at = 0; at < wire.size(); at += piece) {
        if (!send_all(fd, wire.substr(at, piece))) return;
      }
    });
    return decode_reply(drivers::miners::http_exchange("127.0.0.1", peer.port(), deadline)(stats_request()));
  };
  const auto refused = [&](const std::string& wire, std::chrono::milliseconds deadline = std::chrono::seconds(5)) {
    try {
      exchange(wire, 1 << 20, deadline);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("not refused");
  };
  {
    const auto r = exchange("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 1);  // a byte at a time
    CHECK(r.status == 200);
    CHECK(r.body == "hello");
  }
  {
    const auto r = exchange("HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n1\r\n!\r\n0\r\nX-T: 1\r\n\r\n", 3);
    CHECK(r.status == 201);
    CHECK(r.body == "hello!");
  }
  CHECK(exchange("HTTP/1.0 200 OK\r\n\r\nto the close").body == "to the close");
  CHECK(exchange("HTTP/1.1 204 No Content\r\n\r\n").status == 204);
  const std::string what = "HTTP GET /api/v1/miner/stats: ";
  // Past a bound: refused while it arrives, never after the whole of it.
  CHECK(refused("HTTP/1.1 200 OK\r\n" + std::string("X: ") + std::string(17000, 'y') + "\r\n\r\n") ==
        what + "HTTP reply: its head is over 16 KiB, refused");
  std::string lines = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 101; ++i) lines += "X: y\r\n";
  CHECK(refused(lines + "\r\n") == what + "HTTP reply: over 100 header lines, refused");
  CHECK(refused("HTTP/1.1 200 OK\r\nContent-Length: 3000000000\r\n\r\n") ==
        what + "HTTP reply: a body of 3000000000 bytes, over 1 MiB, refused");
  // Sizes that wrap a 32-bit size_t (armhf): 2^32 + 5 is not 5.
  CHECK(refused("HTTP/1.1 200 OK\r\nContent-Length: 4294967301\r\n\r\nhello") ==
        what + "HTTP reply: a body of 4294967301 bytes, over 1 MiB, refused");
  // One-byte chunks: six bytes on the wire for each of the body's, cut at the body's bound.
  std::string tiny = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < (1 << 20) + 10; ++i) tiny += "1\r\nx\r\n";
  CHECK(refused(tiny, std::chrono::seconds(60)) == what + "HTTP reply: the body is over 1 MiB, refused");
  // Not HTTP, a chunk size that is not one, a chunk cut short: refused, in libcurl's words.
  CHECK(refused("SSH-2.0-OpenSSH\r\n\r\n").starts_with(what));
  CHECK(refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").starts_with(what));
  CHECK(refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nFFFFFFFF\r\nabcd").starts_with(what));
}

TEST_CASE("a Braiins API streaming an endless chunked body is refused at 1 MiB, while it streams") {
  std::atomic<long long> sent{0};
  ScriptedPeer peer([&](int fd, std::atomic<bool>& stop) {
    if (!send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")) return;
    const std::string chunk = "10000\r\n" + std::string(65536, ' ') + "\r\n";
    // At most 256 MiB (the test's own bound): before, the client read all of it.
    while (!stop && sent < (256ll << 20) && send_all(fd, chunk)) sent += static_cast<long long>(chunk.size());
  });
  const auto exchange = drivers::miners::http_exchange("127.0.0.1", peer.port(), std::chrono::seconds(20));
  CHECK_THROWS_WITH_AS(exchange(stats_request()), "HTTP GET /api/v1/miner/stats: HTTP reply: the body is over 1 MiB, refused",
                       std::runtime_error);
  // What the peer got out before the client hung up: the 1 MiB and the sockets' buffers.
  CHECK(sent.load() < (16ll << 20));
}

TEST_CASE("a peer dripping a byte at a time is cut at the exchange's deadline, not each read's") {
  ScriptedPeer peer([](int fd, std::atomic<bool>& stop) {
    const std::string head = "HTTP/1.1 200 OK\r\nX-Drip: " + std::string(10000, 'x');
    for (std::size_t i = 0; i < head.size() && !stop; ++i) {
      if (::send(fd, &head[i], 1, MSG_NOSIGNAL) != 1) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the peer's pace, not a wait
    }
  });
  const auto exchange = drivers::miners::http_exchange("127.0.0.1", peer.port(), std::chrono::milliseconds(300));
  CHECK_THROWS_WITH_AS(exchange(stats_request()),
                       "HTTP GET /api/v1/miner/stats: reply: timed out (the whole exchange has 300 ms)", std::runtime_error);
}

TEST_CASE("a cgminer-style miner dripping its reply is cut at the deadline; one streaming is cut at 1 MiB") {
  const auto* kind = drivers::miners::find_miner_kind("luxos");
  {
    ScriptedPeer peer([](int fd, std::atomic<bool>& stop) {
      for (int i = 0; i < 500 && !stop; ++i) {
        if (::send(fd, "{", 1, MSG_NOSIGNAL) != 1) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
    const auto exchange = drivers::miners::tcp_exchange("127.0.0.1", peer.port(), kind->framing, std::chrono::milliseconds(300));
    CHECK_THROWS_WITH_AS(exchange("{\"command\":\"power\"}\r\n\r\n"), "reply: timed out (the whole exchange has 300 ms)",
                         std::runtime_error);
  }
  std::atomic<long long> sent{0};
  ScriptedPeer peer([&](int fd, std::atomic<bool>& stop) {
    const std::string block(65536, ' ');
    while (!stop && sent < (256ll << 20) && send_all(fd, block)) sent += static_cast<long long>(block.size());
  });
  const auto exchange = drivers::miners::tcp_exchange("127.0.0.1", peer.port(), kind->framing, std::chrono::seconds(20));
  CHECK_THROWS_WITH_AS(exchange("{\"command\":\"power\"}\r\n\r\n"), "reply: over 1 MiB, refused (a miner's reply is a few kB)",
                       std::runtime_error);
  CHECK(sent.load() < (16ll << 20));
}

TEST_CASE("a cancel ends an exchange's wait at once: a stopping daemon does not wait out a miner") {
  SilentMiner server;
  auto cancel = std::make_shared<drivers::miners::Cancel>();
  const auto exchange = drivers::miners::http_exchange("127.0.0.1", server.port(), std::chrono::seconds(30), cancel);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the exchange waits by then
    cancel->cancel();
  });
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH_AS(exchange(stats_request()), "stopping", std::runtime_error);
  stopper.join();
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));  // a bound, far under its 30 s
  // And every exchange after it, before it connects.
  CHECK_THROWS_WITH_AS(exchange(stats_request()), "stopping", std::runtime_error);
}

// HTTPS where the firmware serves it (issue 58): the miner's certificate is checked, with its
// name; a self-signed one is trusted only as the owner's ca_file. The certificate and key are a
// fixture (tests/fixtures/tls/, made with `openssl req -x509 -newkey ec ... -subj /CN=127.0.0.1
// -addext subjectAltName=IP:127.0.0.1 -days 36500`).
TEST_CASE("Braiins OS over HTTPS: the miner's certificate checked, a self-signed one trusted only as ca_file") {
  httplib::SSLServer server(SHACKD_FIXTURES "/tls/miner-cert.pem", SHACKD_FIXTURES "/tls/miner-key.pem");
  REQUIRE(server.is_valid());
  server.Get("/api/v1/miner/stats", [](const httplib::Request& q, httplib::Response& r) {
    r.set_content(q.get_header_value("Authorization") == "t0ken" ? "{\"ok\":true}" : "{}", "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { server.listen_after_bind(); });
  // Bound and listening already: a connection waits in the backlog until the server accepts.
  const auto request = drivers::miners::encode(drivers::miners::HttpRequest{"GET", "/api/v1/miner/stats", "t0ken", ""});
  const auto trusted = drivers::miners::http_exchange("127.0.0.1", port, std::chrono::seconds(5), nullptr,
                                                      {.on = true, .ca_file = SHACKD_FIXTURES "/tls/miner-cert.pem"});
  const auto reply = drivers::miners::decode_reply(trusted(request));
  CHECK(reply.status == 200);
  CHECK(reply.body == "{\"ok\":true}");
  // The system's CAs do not know it: refused, and the message says where its certificate goes.
  const auto system_cas = drivers::miners::http_exchange("127.0.0.1", port, std::chrono::seconds(5), nullptr, {.on = true, .ca_file = {}});
  try {
    system_cas(request);
    FAIL("a self-signed certificate was taken without ca_file");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("HTTP GET /api/v1/miner/stats: TLS: ") == 0);
    CHECK(std::string(e.what()).find("miners.<name>.ca_file") != std::string::npos);
  }
  // Plain HTTP to the TLS port: an answer that is not HTTP, refused.
  CHECK_THROWS(drivers::miners::http_exchange("127.0.0.1", port, std::chrono::seconds(2))(request));
  server.stop();
  serving.join();
}
