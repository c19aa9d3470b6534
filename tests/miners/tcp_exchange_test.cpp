// The miner clients on the wire: the simulator's miner served on loopback as shackd-sim serves it
// (sim/miner_server.hpp: each kind's framing, HTTP behind cpp-httplib's server); a miner that
// accepts and never answers costs one timeout, not a hang.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

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
  CHECK_THROWS_WITH(silent("{\"command\":\"power\"}"), "reply: timed out");
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
