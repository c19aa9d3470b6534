// The metrics endpoint: the two exposition formats, the /proc parsers, the server (token,
// negotiation, bounds) and the daemon serving its cycles, in process on loopback.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <thread>
#include <limits>

#include "daemon/metrics/exposition.hpp"
#include "daemon/metrics/make_room.hpp"
#include "daemon/metrics/process.hpp"
#include "daemon/metrics/server.hpp"
#include "daemon/system/signals.hpp"
#include "tests/support/fake_site.hpp"
#include "tests/support/loopback.hpp"

using namespace shackd::metrics;

namespace {

std::vector<Family> two_families() {
  std::vector<Family> f;
  f.push_back(Family{"shackd_relay_commands", "Commands sent", Type::counter, {}}.add(3));
  f.push_back(Family{"shackd_battery_voltage_volts", "Voltage", Type::gauge, {}}
                  .add(52.5, {{"source", "battery_monitor"}})
                  .add(52.25, {{"source", "odd \"name\"\\with\nnewline"}}));
  return f;
}

std::shared_ptr<const Frame> frame_of(std::vector<Family> families) {
  auto f = std::make_shared<Frame>();
  f->families = std::move(families);
  return f;
}

// Counts lines of `text` that start with `prefix`.
int lines_starting(const std::string& text, const std::string& prefix) {
  int n = 0;
  std::size_t at = 0;
  while (at < text.size()) {
    const auto end = text.find('\n', at);
    if (text.compare(at, prefix.size(), prefix) == 0) ++n;
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return n;
}

}  // namespace

TEST_CASE("metrics: the Prometheus text format and OpenMetrics differ in a counter's TYPE and the end") {
  const auto text = render(two_families(), Format::prometheus_text);
  CHECK(text.find("# TYPE shackd_relay_commands_total counter\nshackd_relay_commands_total 3\n") != std::string::npos);
  CHECK(text.find("# EOF") == std::string::npos);
  const auto om = render(two_families(), Format::openmetrics);
  CHECK(om.find("# TYPE shackd_relay_commands counter\nshackd_relay_commands_total 3\n") != std::string::npos);
  CHECK(om.size() > 6);
  CHECK(om.substr(om.size() - 6) == "# EOF\n");
  // A label value is escaped, never passed through: one sample stays one line.
  CHECK(text.find(R"(shackd_battery_voltage_volts{source="odd \"name\"\\with\nnewline"} 52.25)") != std::string::npos);
  CHECK(lines_starting(text, "shackd_battery_voltage_volts{") == 2);
}

TEST_CASE("metrics: values, names and negotiation") {
  CHECK(format_value(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(format_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(format_value(0.1) == "0.1");
  CHECK(format_value(1e21) == "1e+21");
  CHECK(valid_metric_name("shackd_x:y"));
  CHECK_FALSE(valid_metric_name("9lives"));
  CHECK_FALSE(valid_metric_name("a-b"));
  CHECK_FALSE(valid_label_name("__name__"));
  CHECK_FALSE(valid_label_name("a:b"));
  // A family or label whose name is not valid is left out, never rendered invalid; a family
  // without samples is announced.
  std::vector<Family> bad;
  bad.push_back(Family{"bad-name", "x", Type::gauge, {}}.add(1));
  bad.push_back(Family{"ok", "x", Type::gauge, {}}.add(1, {{"bad-label", "v"}, {"good", "v"}}));
  bad.push_back(Family{"empty", "x", Type::gauge, {}});
  const auto t = render(bad, Format::prometheus_text);
  CHECK(t == "# HELP ok x\n# TYPE ok gauge\nok{good=\"v\"} 1\n# HELP empty x\n# TYPE empty gauge\n");
  CHECK(negotiate("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5") == Format::openmetrics);
  CHECK(negotiate("text/plain") == Format::prometheus_text);
  CHECK(negotiate("") == Format::prometheus_text);
}

TEST_CASE("metrics: metrics.listen is an address and a port") {
  std::string host;
  int port = -1;
  CHECK(parse_listen("127.0.0.1:9466", host, port).empty());
  CHECK((host == "127.0.0.1" && port == 9466));
  CHECK(parse_listen("[::1]:0", host, port).empty());
  CHECK((host == "::1" && port == 0));
  CHECK(parse_listen("9466", host, port) == "must be address:port, for example 127.0.0.1:9466");
  CHECK(parse_listen(":9466", host, port) == "must be address:port, for example 127.0.0.1:9466");
  CHECK(parse_listen("::1:9466", host, port) == "an IPv6 address is written [address]:port");
  CHECK(parse_listen("127.0.0.1:65536", host, port) == "the port must be a number from 0 to 65535");
  CHECK(parse_listen("127.0.0.1:-1", host, port) == "the port must be a number from 0 to 65535");
  CHECK(parse_listen("127.0.0.1:", host, port) == "the port must be a number from 0 to 65535");
}

TEST_CASE("metrics: /proc's figures, a command name with spaces and parentheses included") {
  CHECK(io_write_bytes("rchar: 10\nwchar: 20\nwrite_bytes: 4096\ncancelled_write_bytes: 0\n") == 4096);
  CHECK_FALSE(io_write_bytes("rchar: 10\n").has_value());
  CHECK_FALSE(io_write_bytes("write_bytes: x\n").has_value());
  // pid (comm) state ppid ... utime=14 stime=15 ... starttime=22 vsize=23 rss=24
  const std::string stat =
      "4242 (shackd (a) b) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1000 12345678 2000 18446744073709551615";
  const auto s = parse_stat(stat, 100, 4096);
  REQUIRE(s.has_value());
  CHECK(s->cpu_s == doctest::Approx(3.0));
  CHECK(s->start_s == doctest::Approx(10.0));
  CHECK(s->rss_bytes == doctest::Approx(2000.0 * 4096));
  CHECK_FALSE(parse_stat("4242 (short) S 1 2", 100, 4096).has_value());
  CHECK_FALSE(parse_stat("no parenthesis", 100, 4096).has_value());
  // This process's own, as the endpoint reads them.
  bool cpu = false;
  for (const auto& f : process_families()) cpu = cpu || (f.name == "process_cpu_seconds" && f.samples.size() == 1);
  CHECK(cpu);
}

TEST_CASE("metrics: the server answers 503 before a cycle, the families after; a token is asked for") {
  // A scrape before any frame waits for one, then gives up: 50 ms here.
  Server server({.host = "127.0.0.1", .port = 0, .bearer_token = "s3cret", .fresh_wait = std::chrono::milliseconds(50)});
  server.start();
  REQUIRE(server.port() > 0);
  httplib::Client c("127.0.0.1", server.port());
  c.set_read_timeout(5, 0);
  const httplib::Headers token{{"Authorization", "Bearer s3cret"}};
  auto r = c.Get("/metrics", token);
  REQUIRE(r);
  CHECK(r->status == 503);
  server.publish(frame_of(two_families()));
  r = c.Get("/metrics");
  REQUIRE(r);
  CHECK(r->status == 401);
  CHECK(r->get_header_value("WWW-Authenticate") == "Bearer realm=\"shackd\"");
  r = c.Get("/metrics", {{"Authorization", "Bearer s3cre"}});
  REQUIRE(r);
  CHECK(r->status == 401);
  r = c.Get("/metrics", {{"Authorization", "Bearer s3cret"}});
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Type") == std::string(kPrometheusTextType));
  CHECK(r->body.find("shackd_relay_commands_total 3\n") != std::string::npos);
  CHECK(r->body.find("process_cpu_seconds_total") != std::string::npos);
  CHECK(r->body.find("shackd_metrics_scrapes_total 1\n") != std::string::npos);
  r = c.Get("/metrics", {{"Authorization", "Bearer s3cret"}, {"Accept", "application/openmetrics-text; version=1.0.0"}});
  REQUIRE(r);
  CHECK(r->get_header_value("Content-Type") == std::string(kOpenMetricsType));
  CHECK(r->body.substr(r->body.size() - 6) == "# EOF\n");
  r = c.Get("/other", token);
  REQUIRE(r);
  CHECK(r->status == 404);
  CHECK(server.refused() == 2);
  CHECK(server.scrapes() == 2);
}

// The lobby hands the library each connection with its peer's address (lobby.hpp): an IPv6 one
// too, where the machine has IPv6 loopback (metrics.listen: "[::1]:9466").
TEST_CASE("metrics: the endpoint serves on IPv6 loopback") {
  const int probe = ::socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  const bool has_v6 = probe >= 0 && ::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (probe >= 0) ::close(probe);
  if (!has_v6) {
    MESSAGE("no IPv6 loopback here: not tried");
    return;
  }
  Server server({.host = "::1", .port = 0, .bearer_token = {}});
  server.start();
  server.publish(frame_of(two_families()));
  httplib::Client c("::1", server.port());
  c.set_read_timeout(5, 0);
  const auto r = c.Get("/metrics");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body.find("shackd_relay_commands_total 3\n") != std::string::npos);
}

TEST_CASE("metrics: clients that hold every connection open never hold up publish(), and the endpoint serves after them") {
  Server server({.host = "127.0.0.1", .port = 0, .bearer_token = {}});
  server.start();
  server.publish(frame_of(two_families()));
  // Twelve connections that say nothing: both workers wait on one each, the queue fills, the
  // listener waits, the rest sit in the kernel's backlog. The loop's side must not wait.
  std::vector<int> idle;
  for (int i = 0; i < 12; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(server.port()));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    idle.push_back(fd);
  }
  for (int i = 0; i < 1000; ++i) server.publish(frame_of(two_families()));
  // A scrape now waits its turn: started, then the idle clients leave, then it is answered.
  auto scrape = std::async(std::launch::async, [port = server.port()] {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(10, 0);
    const auto r = c.Get("/metrics");
    return r ? r->status : -1;
  });
  for (const int fd : idle) ::close(fd);
  CHECK(scrape.get() == 200);
  CHECK(server.scrapes() == 1);
}

TEST_CASE("metrics: a frame is filled again in place, and shrinks with what is gone") {
  std::vector<Family> out;
  const std::string long_name = "a device name longer than a short string's room";
  {
    FrameWriter w(out);
    w.family("shackd_a", "A", Type::gauge).sample(1, {{"device", long_name}}).sample(2, {{"device", "b"}});
    w.family("shackd_b", "B", Type::counter).sample(3);
  }
  REQUIRE(out.size() == 2);
  REQUIRE(out[0].samples.size() == 2);
  CHECK(out[0].samples[0].labels[0].second == long_name);
  CHECK(out[1].type == Type::counter);
  // The same series again: the same strings, their room reused (no allocation), new values.
  const char* room = out[0].samples[0].labels[0].second.data();
  {
    FrameWriter w(out);
    w.family("shackd_a", "A", Type::gauge).sample(5, {{"device", long_name}}).sample(6, {{"device", "b"}});
    w.family("shackd_b", "B", Type::counter).sample(7);
  }
  CHECK(out[0].samples[0].labels[0].second.data() == room);
  CHECK(out[0].samples[1].value == 6);
  CHECK(out[1].samples[0].value == 7);
  // A series gone and a family with no sample left: announced alone, nothing of before kept.
  {
    FrameWriter w(out);
    w.family("shackd_a", "A", Type::gauge).sample(8, {{"device", "b"}});
    w.family("shackd_b", "B", Type::counter);
  }
  REQUIRE(out.size() == 2);
  REQUIRE(out[0].samples.size() == 1);
  CHECK(out[0].samples[0].labels[0].second == "b");
  CHECK(out[1].samples.empty());
  CHECK(render(out, Format::prometheus_text) ==
        "# HELP shackd_a A\n# TYPE shackd_a gauge\nshackd_a{device=\"b\"} 8\n# HELP shackd_b_total B\n# TYPE shackd_b_total counter\n");
  // Fewer families than last time.
  { FrameWriter(out).family("shackd_c", "C", Type::gauge); }
  REQUIRE(out.size() == 1);
  CHECK(out[0].name == "shackd_c");
}

TEST_CASE("metrics: requests are served a slot apart, however fast they come") {
  using namespace std::chrono_literals;
  RequestPacer pacer(50ms);
  const RequestPacer::Clock::time_point t0{100s};
  CHECK(pacer.slot(t0) == t0);  // the first at once
  // A burst of four at the same instant: 50 ms apart.
  CHECK(pacer.slot(t0) == t0 + 50ms);
  CHECK(pacer.slot(t0 + 1ms) == t0 + 100ms);
  CHECK(pacer.slot(t0 + 2ms) == t0 + 150ms);
  // A quiet spell earns no credit: a request after it is served at once, the next a gap later.
  CHECK(pacer.slot(t0 + 10s) == t0 + 10s);
  CHECK(pacer.slot(t0 + 10s) == t0 + 10s + 50ms);
}

TEST_CASE("metrics: the loop refills only a frame that is not the newest and that no scrape reads") {
  FramePool pool;
  const auto a = pool.take(nullptr);
  CHECK(pool.take(nullptr) == a);  // nothing published, nobody reads it
  const auto b = pool.take(a);     // a is the server's newest
  CHECK(b != a);
  CHECK(pool.take(b) == a);        // a is no longer the newest
  a->readers = 1;                  // a scrape renders a
  const auto c = pool.take(b);
  CHECK((c != a && c != b));
  a->readers = 0;
  CHECK(pool.take(c) == a);
  // Readers that never let go (a retired server's): bounded, a frame for one use past the bound.
  for (std::size_t i = 0; i < FramePool::kMaxFrames + 2; ++i) pool.take(nullptr)->readers = 1;
  CHECK(pool.size() == FramePool::kMaxFrames);
}

namespace {

std::vector<Family> one_value(double v) {
  std::vector<Family> f;
  f.push_back(Family{"shackd_x", "X", Type::gauge, {}}.add(v));
  return f;
}

// Waits, a bounded time, until `done` holds; false if it never did.
template <typename F>
bool eventually(F done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace

TEST_CASE("metrics: a scrape that finds the loop idle waits for the next frame; while the loop fills, it is answered at once") {
  // An hour's wait: a scrape that waited when it should not would outlast the client's 5 s.
  Server server({.host = "127.0.0.1", .port = 0, .bearer_token = {}, .fresh_wait = std::chrono::hours(1)});
  server.start();
  const auto get = [port = server.port()] {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(5, 0);
    const auto r = c.Get("/metrics");
    return r && r->status == 200 ? r->body : std::string("no answer");
  };
  server.publish(frame_of(one_value(1)));
  server.idle();
  auto cold = std::async(std::launch::async, get);
  REQUIRE(eventually([&] { return server.asked() == 1; }));
  CHECK(cold.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);  // waiting: the frame of 1 is old
  server.publish(frame_of(one_value(2)));
  const auto body = cold.get();
  CHECK(body.find("shackd_x 2\n") != std::string::npos);
  // Filling: the newest frame at once, no wait for another.
  CHECK(get().find("shackd_x 2\n") != std::string::npos);
  CHECK(server.asked() == 2);
  // Idle again, and the server stops: the waiting scrape is answered with what there is.
  server.idle();
  auto stopping = std::async(std::launch::async, get);
  REQUIRE(eventually([&] { return server.asked() == 3; }));
  server.stop_listening();
  CHECK(stopping.get().find("shackd_x 2\n") != std::string::npos);
}

namespace {

std::string scrape(int port, const std::string& accept = "") {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(5, 0);
  httplib::Headers h;
  if (!accept.empty()) h.emplace("Accept", accept);
  const auto r = c.Get("/metrics", h);
  return r && r->status == 200 ? r->body : std::string();
}

}  // namespace

TEST_CASE("metrics: the daemon serves each cycle's figures while it runs") {
  test::FakeSite site("metrics:\n  listen: 127.0.0.1:0\n");
  REQUIRE_FALSE(site.daemon->start().has_value());
  REQUIRE(site.daemon->metrics().port().has_value());
  const int port = *site.daemon->metrics().port();
  site.cycles(5);
  const auto body = scrape(port);
  REQUIRE_FALSE(body.empty());
  INFO(body);
  for (const char* series :
       {"shackd_battery_voltage_volts{source=\"battery_monitor\"} 54\n", "shackd_battery_decided_voltage_volts 54\n",
        "shackd_load_on{load=\"primary_s21\",kind=\"miner\"} 1\n", "shackd_load_on{load=\"heat_room_fan\",kind=\"fan\"} 0\n",
        "shackd_load_reason{load=\"primary_s21\",reason=\"", "shackd_load_relay_unconfirmed{load=\"primary_s21\",kind=\"miner\"}",
        "shackd_load_energy_joules_total{load=\"primary_s21\",kind=\"miner\"}", "shackd_device_up{device=\"victron\"} 1\n",
        "shackd_device_requests_total{device=\"victron\"}", "shackd_input_age_seconds{input=\"battery_v:battery_monitor\"} 0\n",
        "# TYPE shackd_cycles_total counter\nshackd_cycles_total ", "shackd_cycle_duration_seconds ", "shackd_side_job_failures_total{side_job=\"metrics\"} 0\n",
        "shackd_battery_band{band=\"optimal\"} ", "shackd_charging_blocked 0\n", "shackd_store_queue_items ",
        "shackd_site_info{site_id=\"", "shackd_build_info{version=\"" SHACKD_VERSION "\"} 1\n", "shackd_mqtt_connected ",
        "shackd_relay_commands_total ", "process_resident_memory_bytes ", "shackd_storage_written_bytes_total "}) {
    const std::string wanted = series;
    CAPTURE(wanted);
    CHECK(body.find(wanted) != std::string::npos);
  }
  // The next cycle's figures, not a copy kept from the first scrape.
  site.set_battery(48.5);
  site.cycles(1);
  CHECK(scrape(port).find("shackd_battery_decided_voltage_volts 48.5\n") != std::string::npos);
  const auto om = scrape(port, "application/openmetrics-text; version=1.0.0");
  CHECK(om.find("# TYPE shackd_cycles counter\nshackd_cycles_total ") != std::string::npos);
}

TEST_CASE("metrics: shadow mode, each load's disagreement and each AC source against its rating (issues 59, 60)") {
  std::string base = test::kFakeSiteConfig;
  const std::string loop = "  interval_ms: 1000\n";
  base.replace(base.find(loop), loop.size(), loop + "  shadow: true\n");
  test::FakeSite site("metrics:\n  listen: 127.0.0.1:0\n", {}, base);
  REQUIRE_FALSE(site.daemon->start().has_value());
  const int port = *site.daemon->metrics().port();
  site.cycles(5);  // 54 V: the primary would run
  // The primary's relay says OFF (the other controller holds it off): shackd would have it ON.
  site.broker.message("stat/primary_s21/POWER1", "OFF", false);
  site.broker.message("stat/heat_room_fan/POWER1", "OFF", false);
  site.cycles(1);
  const auto body = scrape(port);
  INFO(body);
  for (const char* series :
       {"shackd_shadow_mode 1\n", "shackd_dry_run 1\n", "shackd_load_on{load=\"primary_s21\",kind=\"miner\"} 1\n",
        "shackd_load_observed_on{load=\"primary_s21\",kind=\"miner\"} 0\n",
        "shackd_load_shadow_disagrees{load=\"primary_s21\",kind=\"miner\"} 1\n",
        "shackd_load_shadow_disagrees{load=\"heat_room_fan\",kind=\"fan\"} 0\n",
        // No ac_sources: the one default inverter, not rated; no AC reading, no generator word.
        "shackd_ac_source_rating_watts{source=\"inverter\"} 0\n",
        "shackd_ac_source_surge_rating_watts{source=\"inverter\"} 0\n", "# TYPE shackd_ac_source_load_watts gauge\n",
        "# TYPE shackd_generator_running gauge\n"}) {
    const std::string wanted = series;
    CAPTURE(wanted);
    CHECK(body.find(wanted) != std::string::npos);
  }
  CHECK(body.find("shackd_load_shadow_disagrees{load=\"dump_s19_1\"") == std::string::npos);  // its relay has not said
  CHECK(body.find("\nshackd_generator_running ") == std::string::npos);  // no word: not known, no sample
}

TEST_CASE("metrics: outside shadow mode no load disagrees") {
  test::FakeSite site("metrics:\n  listen: 127.0.0.1:0\n");
  REQUIRE_FALSE(site.daemon->start().has_value());
  const int port = *site.daemon->metrics().port();
  site.broker.message("stat/primary_s21/POWER1", "OFF", false);
  site.cycles(3);
  const auto body = scrape(port);
  INFO(body);
  CHECK(body.find("shackd_shadow_mode 0\n") != std::string::npos);
  CHECK(body.find("shackd_load_shadow_disagrees{") == std::string::npos);
}

TEST_CASE("metrics: the loop fills frames only while somebody scrapes; a scrape after a quiet spell gets the next cycle's") {
  test::FakeSite site("metrics:\n  listen: 127.0.0.1:0\n");
  REQUIRE_FALSE(site.daemon->start().has_value());
  const int port = *site.daemon->metrics().port();
  site.cycles(3);
  CHECK(site.daemon->metrics().frames() == 3);  // filled from the start: a scraper usually comes soon
  CHECK(scrape(port).find("shackd_battery_decided_voltage_volts 54\n") != std::string::npos);
  site.cycles(300);  // 5 min (a cycle is 1 s here) since that scrape: the loop stops filling
  const auto quiet = *site.daemon->metrics().frames();
  site.cycles(20);
  CHECK(site.daemon->metrics().frames() == quiet);  // nothing filled, nothing published
  // The site changes while nobody looks; a scrape then waits for the next cycle's figures, never
  // the old frame's.
  site.set_battery(48.5);
  site.cycles(1);
  auto body = std::async(std::launch::async, [port] { return scrape(port); });
  for (int i = 0; i < 10000 && body.wait_for(std::chrono::milliseconds(1)) != std::future_status::ready; ++i) site.cycles(1);
  const auto text = body.get();
  CHECK(text.find("shackd_battery_decided_voltage_volts 48.5\n") != std::string::npos);
  CHECK(site.daemon->metrics().frames() > quiet);
}

TEST_CASE("metrics: an address in use does not stop the site; the endpoint is tried again each minute") {
  auto squatter = std::make_unique<Server>(ServerOptions{.host = "127.0.0.1", .port = 0, .bearer_token = {}});
  squatter->start();
  const int port = squatter->port();
  auto site = std::make_unique<test::FakeSite>(fmt::format("metrics:\n  listen: 127.0.0.1:{}\n", port));
  REQUIRE_FALSE(site->daemon->start().has_value());
  CHECK_FALSE(site->daemon->metrics().port().has_value());
  site->cycles(3);
  CHECK(site->pings() == 3);  // decided, switched and pinged without it
  squatter.reset();
  site->cycles(30);
  CHECK_FALSE(site->daemon->metrics().port().has_value());  // not before its minute
  site->cycles(31);
  // The port was free when the squatter went; another test's socket may take it meanwhile (an
  // ephemeral port: seen once under qemu, "in use" at the retry). Then the next minute's try
  // takes it: each minute, at most three more.
  for (int minute = 0; minute < 3 && site->daemon->metrics().port() != port; ++minute) site->cycles(60);
  REQUIRE(site->daemon->metrics().port() == port);
  CHECK(scrape(port).find("shackd_battery_decided_voltage_volts 54\n") != std::string::npos);
}

TEST_CASE("metrics: a token file that cannot be read means no endpoint, never an open one") {
  test::FakeSite site("metrics:\n  listen: 127.0.0.1:0\n  token_file: /nonexistent/token\n");
  // `check` and the start name it (daemon/config: check_files), so the daemon does not start.
  CHECK(site.daemon->start() == 78);
}

TEST_CASE("metrics: a reload turns the endpoint on, moves it and turns it off") {
  test::FakeSite site;
  REQUIRE_FALSE(site.daemon->start().has_value());
  site.cycles(2);
  CHECK_FALSE(site.daemon->metrics().port().has_value());
  site.write_config(std::string(test::kFakeSiteConfig) + "metrics:\n  listen: 127.0.0.1:0\n");
  shackd::signals::reload = true;
  site.cycles(2);  // the reload runs on its thread, taken at the next cycle
  REQUIRE(site.daemon->metrics().port().has_value());
  const int first = *site.daemon->metrics().port();
  CHECK(scrape(first).find("shackd_battery_decided_voltage_volts 54\n") != std::string::npos);
  auto other = std::make_unique<Server>(ServerOptions{.host = "127.0.0.1", .port = 0, .bearer_token = {}});
  other->start();
  const int second = other->port();
  other.reset();  // a port known to be free a moment ago
  site.write_config(std::string(test::kFakeSiteConfig) + fmt::format("metrics:\n  listen: 127.0.0.1:{}\n", second));
  shackd::signals::reload = true;
  site.cycles(2);  // the reload runs on its thread, taken at the next cycle
  CHECK(site.daemon->metrics().port() == second);
  CHECK(scrape(first).empty());  // the old address is closed
  site.write_config(test::kFakeSiteConfig);
  shackd::signals::reload = true;
  site.cycles(2);  // the reload runs on its thread, taken at the next cycle
  CHECK_FALSE(site.daemon->metrics().port().has_value());
  CHECK(scrape(second).empty());
}

// --- Issue 48: the endpoint costs a fixed amount of memory whatever a client sends, a request has
// one deadline, Range is not served, and a stop is bounded.

namespace {

int connect_to(int port) {
  const int fd = test::loopback_client(port);
  REQUIRE(fd >= 0);
  return fd;
}

// What the server sends until it closes, or 5 s pass.
std::string read_reply(int fd) {
  std::string out;
  char buf[4096];
  pollfd p{fd, POLLIN, 0};
  while (::poll(&p, 1, 5000) > 0) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// One scrape with a bounded wait: its status, or -1.
int scrape_status(int port, int timeout_s = 2) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(timeout_s, 0);
  c.set_read_timeout(timeout_s, 0);
  const auto r = c.Get("/metrics");
  return r ? r->status : -1;
}

}  // namespace

TEST_CASE("metrics: 32 MB of header lines are refused at 8 KiB; memory stays where it was") {
  Server server({.host = "127.0.0.1", .port = 0, .bearer_token = "s3cret"});
  server.start();
  server.publish(frame_of(two_families()));
  const long before_kb = rss_kb();
  const int fd = connect_to(server.port());
  std::string block = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
  std::string lines;
  for (int i = 0; i < 16384; ++i) lines += "X: y\r\n";  // 96 KiB a send
  long long sent = 0;
  bool cut = false;
  pollfd p{fd, POLLOUT, 0};
  (void)::send(fd, block.data(), block.size(), MSG_NOSIGNAL);
  while (sent < (32ll << 20)) {
    if (::poll(&p, 1, 5000) <= 0) break;  // the server stopped reading and the buffers are full
    const auto n = ::send(fd, lines.data(), lines.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      cut = true;  // reset: the server answered and closed
      break;
    }
    sent += n;
  }
  const std::string reply = read_reply(fd);
  ::close(fd);
  CHECK(cut);
  CHECK(sent < (32ll << 20));
  // The 431 may be lost to the reset; when it arrives, it is the right one.
  if (!reply.empty()) CHECK(reply.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0) == 0);
  CHECK(rss_kb() - before_kb < 10 * 1024);
  CHECK(server.rejected() == 1);
  CHECK(scrape_status(server.port()) == 401);  // and it serves on (the token is asked for)
}

TEST_CASE("metrics: connections dripping their request never keep a scrape out, and each is closed at its deadline") {
  Server server({.host = "127.0.0.1", .port = 0, .bearer_token = {}, .request_timeout = std::chrono::milliseconds(400)});
  server.start();
  server.publish(frame_of(two_families()));
  // Two slowloris connections (issue 48: they held both of cpp-httplib's workers), then more than
  // the server holds at once.
  for (const int count : {2, 40}) {
    std::vector<int> drips;
    for (int i = 0; i < count; ++i) {
      drips.push_back(connect_to(server.port()));
      (void)::send(drips.back(), "GET /metrics HTTP/1.1\r\nX-A: ", 28, MSG_NOSIGNAL);
    }
    for (int k = 0; k < 3; ++k) {
      for (const int fd : drips) (void)::send(fd, "a", 1, MSG_NOSIGNAL);
      CHECK(scrape_status(server.port()) == 200);
    }
    // Each dripping connection is closed within its one deadline (a byte a scrape kept it alive
    // under a per-read time-out): read until the close, bounded.
    for (const int fd : drips) {
      const std::string r = read_reply(fd);
      CHECK((r.empty() || r.rfind("HTTP/1.1 408", 0) == 0));
      ::close(fd);
    }
  }
  CHECK(server.dropped() >= 2);
}

// Connections that say nothing are not handed to the server until they do (TCP_DEFER_ACCEPT, up
// to the request's time-out): 40 of them, more than it holds, take no slot, so none is cut to make
// room and a scrape among them is answered at once. Without the option all 40 were accepted and
// 24 cut (dropped() counts them); CI once cut a scrape accepted before its request came.
TEST_CASE("metrics: connections that say nothing wait in the kernel, not in the server's slots") {
  Server server({.host = "127.0.0.1", .port = 0, .bearer_token = {}, .request_timeout = std::chrono::seconds(30)});
  server.start();
  server.publish(frame_of(two_families()));
  std::vector<int> silent;
  for (std::size_t i = 0; i < kMaxConnections + 24; ++i) silent.push_back(connect_to(server.port()));
  CHECK(scrape_status(server.port()) == 200);
  CHECK(server.dropped() == 0);
  CHECK(server.scrapes() == 1);
  for (const int fd : silent) ::close(fd);
}

// Which connection a full endpoint closes (make_room.hpp): a scrape accepted among silent
// connections, its request waiting unread, is kept; CI cut one as the oldest reading (hostile_peers,
// 10,000 idle connections). The race itself is not staged here: the choice is.
TEST_CASE("metrics: a full endpoint closes the oldest silent connection, never a request waiting to be read") {
  struct C {
    bool reading = true, unread = false;
  };
  C scrape{true, true}, idle1, idle2, served{false, false}, newcomer;
  const auto reading = [](const C& c) { return c.reading; };
  const auto unread = [](const C& c) { return c.unread; };
  using V = std::vector<C*>;
  // A reply under way is not reading; the scrape is the oldest reading but has its request there.
  CHECK(make_room(V{&served, &scrape, &idle1, &idle2, &newcomer}, &newcomer, reading, unread) == &idle1);
  // Every one reading has bytes waiting (a burst of real scrapes): the oldest, as before.
  C other{true, true};
  CHECK(make_room(V{&scrape, &other, &newcomer}, &newcomer, reading, unread) == &scrape);
  // None reading but the newcomer: nullptr, the newcomer goes.
  CHECK(make_room(V{&served, &newcomer}, &newcomer, reading, unread) == nullptr);
}

TEST_CASE("metrics: Range is not served: the reply is whole, once; bodies and other methods are refused") {
  Server server({.host = "127.0.0.1", .port = 0, .bearer_token = {}});
  server.start();
  server.publish(frame_of(two_families()));
  // Each request names a Host: libmicrohttpd answers an HTTP/1.1 request without one 400, as RFC
  // 9112 §3.2 says a server must.
  const auto ask = [&](const std::string& request) {
    const int fd = connect_to(server.port());
    (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    const std::string r = read_reply(fd);
    ::close(fd);
    return r;
  };
  const std::string whole = ask("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  REQUIRE(whole.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(whole.find("Accept-Ranges: none\r\n") != std::string::npos);
  std::string ranges = "bytes=0-0";
  for (int i = 1; i < 900; ++i) ranges += "," + std::to_string(i) + "-" + std::to_string(i);  // 900 parts, 7.6 kB
  const std::string ranged = ask("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\nRange: " + ranges + "\r\n\r\n");
  CHECK(ranged.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(ranged.find("multipart/byteranges") == std::string::npos);
  CHECK(ranged.size() < whole.size() + 64);  // the scrape counter's digits aside
  CHECK(ask("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello").rfind("HTTP/1.1 413", 0) == 0);
  CHECK(ask("DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n").rfind("HTTP/1.1 405", 0) == 0);
  CHECK(ask("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").rfind("HTTP/1.1 505", 0) == 0);
  CHECK(ask("GET /metrics HTTP/1.1\r\n bad fold\r\nHost: x\r\n\r\n").rfind("HTTP/1.1 400", 0) == 0);
  const std::string head = ask("HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(head.substr(head.find("\r\n\r\n") + 4).empty());
  // Two requests in one packet: both answered in order on the connection.
  const std::string two = ask("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(two.find("HTTP/1.1 200 OK") == 0);
  CHECK(two.find("shackd_relay_commands_total 3") != std::string::npos);
}

TEST_CASE("metrics: a server with 50 hanging scrapes stops at once") {
  auto server = std::make_unique<Server>(ServerOptions{.host = "127.0.0.1", .port = 0, .bearer_token = {},
                                                       .fresh_wait = std::chrono::hours(1)});
  server->start();
  std::vector<int> hanging;
  for (int i = 0; i < 50; ++i) {
    hanging.push_back(connect_to(server->port()));
    // Half say nothing more than a start; half ask and wait for a frame that never comes.
    const std::string req = i % 2 ? "GET /metrics HTTP/1.1\r\nX: " : "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    (void)::send(hanging.back(), req.data(), req.size(), MSG_NOSIGNAL);
  }
  REQUIRE(eventually([&] { return server->asked() >= 1; }));
  const auto t0 = std::chrono::steady_clock::now();
  server->stop_listening();
  server.reset();
  // A bound, not a speed goal: before, a stop waited for the workers' clients (a SIGTERM ended in
  // SIGKILL after 20 s).
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
  for (const int fd : hanging) ::close(fd);
}

// Issue 48: a token rotated in place (the same file, a new first line) was not taken by a reload:
// the old one kept working.
TEST_CASE("metrics: a token rotated in place is taken at the reload; the old one no longer works") {
  test::FakeSite site;
  const auto token_file = (site.dir / "token").string();
  std::ofstream(token_file) << "old-secret\n";
  const std::string config =
      std::string(test::kFakeSiteConfig) + "metrics:\n  listen: 127.0.0.1:0\n  token_file: " + token_file + "\n";
  site.write_config(config);
  REQUIRE_FALSE(site.daemon->start().has_value());
  site.cycles(2);
  REQUIRE(site.daemon->metrics().port().has_value());
  const auto status_with = [&](const std::string& token) {
    httplib::Client c("127.0.0.1", *site.daemon->metrics().port());
    c.set_read_timeout(5, 0);
    const auto r = c.Get("/metrics", {{"Authorization", "Bearer " + token}});
    return r ? r->status : -1;
  };
  CHECK(status_with("old-secret") == 200);
  std::ofstream(token_file) << "new-secret\n";
  shackd::signals::reload = true;
  site.cycles(2);  // the reload runs on its thread, taken at the next cycle
  CHECK(status_with("old-secret") == 401);
  CHECK(status_with("new-secret") == 200);
  // The same token again: nothing restarts (the port stays).
  const int port = *site.daemon->metrics().port();
  shackd::signals::reload = true;
  site.cycles(2);
  CHECK(site.daemon->metrics().port() == port);
}
