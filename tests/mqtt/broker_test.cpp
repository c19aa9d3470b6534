// Relays, sensors and the connection against a real mosquitto on a loopback port.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "drivers/mqtt/client.hpp"
#include "drivers/mqtt/relays.hpp"
#include "drivers/mqtt/sensors.hpp"
#include "tests/support/broker.hpp"
#include "tests/support/relay_emulator.hpp"
#include "tests/support/tcp_cutter.hpp"

using namespace drivers::mqtt;
using namespace std::chrono_literals;

namespace {

ClientConfig client_config(const std::string& uri, const std::string& id) {
  ClientConfig c;
  c.uri = uri;
  c.client_id = id;
  c.keepalive = 5s;
  c.status_topic = "shack/status";
  return c;
}

// shackd's side: a client and a relay manager, pumped on this thread until `done` or a bound.
struct Side {
  Client client;
  RelayManager relays;
  std::vector<Event> messages;
  int connects = 0;

  Side(const std::string& uri, std::vector<RelayConfig> r, RelayTiming t = {})
      : client(client_config(uri, "shackd-test")),
        relays(std::move(r), t, [this](const std::string& topic, const std::string& p, int qos, bool retain) {
          return client.publish(topic, p, qos, retain);
        }) {
    for (const auto& s : relays.subscriptions()) client.subscribe(s);
  }

  bool pump_until(const std::function<bool()>& done, std::chrono::milliseconds bound = 5000ms) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < deadline) {
      if (const auto e = client.poll(20ms)) {
        const auto now = std::chrono::steady_clock::now();
        if (e->kind == Event::Kind::connected) {
          ++connects;
          relays.on_connected(now);
        } else if (e->kind == Event::Kind::message) {
          if (!relays.on_message(e->topic, e->payload, now, e->retained)) messages.push_back(*e);
        }
      }
      relays.tick(std::chrono::steady_clock::now());
      if (done()) return true;
    }
    return done();
  }
};

RelayConfig relay(RelayProtocol p, const std::string& id) {
  RelayConfig r;
  r.id = id;
  r.protocol = p;
  r.topic = id + "-dev";
  r.channel = p == RelayProtocol::tasmota ? 1 : 0;
  if (p == RelayProtocol::esphome) r.object_id = "relay_1";
  if (p == RelayProtocol::generic) {
    r.command_topic = "custom/" + id + "/set";
    r.state_topic = "custom/" + id + "/state";
  }
  return r;
}

}  // namespace

TEST_CASE("a relay round trip for every protocol") {
  test::Broker broker;
  std::vector<RelayConfig> all;
  for (auto p : {RelayProtocol::tasmota, RelayProtocol::shelly_gen1, RelayProtocol::shelly_gen2,
                 RelayProtocol::esphome, RelayProtocol::generic}) {
    all.push_back(relay(p, protocol_name(p)));
  }
  all[0].dead_man = 120s;  // Tasmota PulseTime
  all[2].dead_man = 120s;  // Shelly Gen2 toggle_after
  std::vector<std::unique_ptr<test::RelayEmulator>> emus;
  for (const auto& r : all) emus.push_back(std::make_unique<test::RelayEmulator>(broker.uri(), r));
  // Short confirmation and retry: a command that beat an emulator's subscription is sent again.
  Side side(broker.uri(), all, RelayTiming{60s, 1s, 1s, 2s});
  side.client.start();
  // Every subscription acknowledged (SUBACK), the emulators' and shackd's: a command sent from
  // here on is heard, and so is its answer.
  REQUIRE(side.pump_until([&] {
    for (auto& e : emus) {
      if (!e->subscribed()) return false;
    }
    return side.client.subscribed();
  }));
  for (const auto& r : all) side.relays.set_desired(r.id, true, std::chrono::steady_clock::now());
  const bool all_on = side.pump_until([&] {
    for (const auto& r : all) {
      if (side.relays.status(r.id).observed != true) return false;
    }
    return true;
  }, 15000ms);
  for (std::size_t i = 0; i < all.size(); ++i) {
    CAPTURE(all[i].id);
    CHECK(side.relays.status(all[i].id).observed == true);
    CHECK(emus[i]->on());
  }
  CHECK(all_on);
  CHECK(emus[0]->pulse_time() == 220);
  CHECK(emus[2]->toggle_after() == 120);
  for (const auto& r : all) side.relays.set_desired(r.id, false, std::chrono::steady_clock::now());
  CHECK(side.pump_until([&] {
    for (const auto& r : all) {
      if (side.relays.status(r.id).observed != false) return false;
    }
    return true;
  }, 15000ms));
  // Availability came from each device's own topic (all but generic announce it).
  CHECK(side.relays.status("tasmota").available == true);
  CHECK(side.relays.status("shelly_gen2").available == true);
  int online = 0;
  for (const auto& a : side.relays.take_alarms()) online += a.code == "relay_online";
  CHECK(online == 0);  // online when first heard of is no news (the availability above is)
  for (const auto& r : all) CHECK_FALSE(side.relays.status(r.id).unconfirmed);

  // No command is retained: a fresh subscriber gets no retained message on a command topic.
  Client spy(client_config(broker.uri(), "spy"));
  spy.subscribe("cmnd/#");
  spy.subscribe("shellies/+/relay/+/command");
  spy.subscribe("+/rpc");
  spy.subscribe("+/switch/+/command");
  spy.subscribe("custom/+/set");
  spy.start();
  int retained = 0;
  const auto deadline = std::chrono::steady_clock::now() + 1s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (const auto e = spy.poll(50ms); e && e->kind == Event::Kind::message) retained += e->retained;
  }
  CHECK(retained == 0);
  for (const auto& e : emus) {
    for (const auto& m : e->received()) CHECK_FALSE(m.retained);
  }
}

TEST_CASE("an unconfirmed relay raises an alarm; a lying one too") {
  test::Broker broker;
  const auto silent_cfg = relay(RelayProtocol::tasmota, "silent");
  const auto liar_cfg = relay(RelayProtocol::esphome, "liar");
  test::RelayEmulator silent(broker.uri(), silent_cfg, test::RelayEmulator::Mode::silent);
  test::RelayEmulator liar(broker.uri(), liar_cfg, test::RelayEmulator::Mode::liar);
  // 3 s to confirm: under qemu on a loaded machine the liar's answer took over 1 s to come back
  // (a CI run read "reports nothing" for it); the silent one is unconfirmed whatever the bound.
  Side side(broker.uri(), {silent_cfg, liar_cfg}, RelayTiming{60s, 3s, 1s, 2s});
  side.client.start();
  REQUIRE(side.pump_until([&] { return side.client.subscribed() && silent.subscribed() && liar.subscribed(); }));
  side.relays.set_desired("silent", true, std::chrono::steady_clock::now());
  side.relays.set_desired("liar", true, std::chrono::steady_clock::now());
  std::vector<RelayAlarm> alarms;
  side.pump_until([&] {
    for (auto& a : side.relays.take_alarms()) alarms.push_back(a);
    int n = 0;
    for (const auto& a : alarms) n += a.code == "relay_unconfirmed";
    return n == 2;
  }, 10000ms);
  int unconfirmed = 0;
  for (const auto& a : alarms) {
    if (a.code != "relay_unconfirmed") continue;
    ++unconfirmed;
    if (a.relay == "silent") CHECK(a.detail == "commanded ON, device reports nothing");
    if (a.relay == "liar") CHECK(a.detail == "commanded ON, device reports OFF");
  }
  CHECK(unconfirmed == 2);
  // Retried with backoff: the silent relay heard the command more than once.
  side.pump_until([] { return false; }, 1500ms);
  int powers = 0;
  for (const auto& m : silent.received()) powers += m.topic == "cmnd/silent-dev/POWER1";
  CHECK(powers >= 2);
}

TEST_CASE("the broker killed and restarted: reconnect, resubscribe, re-assert, no stale command") {
  test::Broker broker;
  const auto cfg = relay(RelayProtocol::tasmota, "dump");
  test::RelayEmulator emu(broker.uri(), cfg);
  Side side(broker.uri(), {cfg}, RelayTiming{3600s, 2s, 1s, 2s});
  side.client.start();
  REQUIRE(side.pump_until([&] { return side.client.subscribed() && emu.subscribed(); }));
  side.relays.set_desired("dump", true, std::chrono::steady_clock::now());
  REQUIRE(side.pump_until([&] { return side.relays.status("dump").observed == true; }));

  broker.kill_hard();
  REQUIRE(side.pump_until([&] { return !side.client.connected(); }));
  // While the broker is down, the desired state moves; none of it may be queued.
  const auto t = std::chrono::steady_clock::now();
  side.relays.set_desired("dump", false, t);
  side.relays.set_desired("dump", true, t);
  side.relays.set_desired("dump", false, t);
  CHECK(side.client.dropped_publishes() >= 3);
  emu.clear();

  broker.start();
  const int connects = side.connects;
  REQUIRE(side.pump_until([&] { return side.connects > connects && emu.connected(); }, 10000ms));
  // Re-asserted (or retried after the emulator came back): the device ends OFF ...
  CHECK(side.pump_until([&] { return side.relays.status("dump").observed == false; }, 10000ms));
  CHECK_FALSE(emu.on());
  // ... and never heard a stale ON after the restart.
  for (const auto& m : emu.received()) {
    if (m.topic == "cmnd/dump-dev/POWER1") CHECK(m.payload == "OFF");
  }
  // Resubscribed: state reports arrive again.
  CHECK(side.relays.status("dump").observed_at > t);
}

TEST_CASE("a broker restart with the relay back seconds after shackd: the OFF decided meanwhile reaches it at once") {
  // The broker sends no will for connections it loses by its own end: to shackd the relay never
  // went offline. The OFF shackd sends at its own reconnect goes to no one (the relay is not
  // back); its live Online, when it is, is what brings the OFF, not the confirmation's time-out
  // (10 s here, then a 5 s retry).
  test::Broker broker;
  const auto cfg = relay(RelayProtocol::tasmota, "dump");
  auto emu = std::make_unique<test::RelayEmulator>(broker.uri(), cfg);
  Side side(broker.uri(), {cfg}, RelayTiming{3600s, 10s, 5s, 40s});
  side.client.start();
  REQUIRE(side.pump_until([&] { return side.client.subscribed() && emu->subscribed(); }));
  side.relays.set_desired("dump", true, std::chrono::steady_clock::now());
  REQUIRE(side.pump_until([&] { return side.relays.status("dump").observed == true; }));

  broker.kill_hard();
  emu.reset();  // the relay's connection went with the broker; it comes back on its own retry
  REQUIRE(side.pump_until([&] { return !side.client.connected(); }));
  side.relays.set_desired("dump", false, std::chrono::steady_clock::now());  // the battery fell
  broker.start();
  const int connects = side.connects;
  REQUIRE(side.pump_until([&] { return side.connects > connects && side.client.subscribed(); }, 10000ms));
  side.pump_until([] { return false; }, 1500ms);  // the relay is not back yet
  const auto relay_back = std::chrono::steady_clock::now();
  emu = std::make_unique<test::RelayEmulator>(broker.uri(), cfg);  // a new session, its Online live
  const bool told = side.pump_until([&] {
    for (const auto& m : emu->received()) {
      if (m.topic == "cmnd/dump-dev/POWER1" && m.payload == "OFF") return true;
    }
    return false;
  }, 5000ms);
  CHECK(told);
  CHECK(std::chrono::steady_clock::now() - relay_back < 5000ms);
  CHECK(side.pump_until([&] { return side.relays.status("dump").observed == false; }, 3000ms));
}

TEST_CASE("malformed sensor JSON is ignored with a reason, and the next good one is read") {
  test::Broker broker;
  const std::vector<SensorConfig> sensors{{"room", "tele/t1/SENSOR", SensorFormat::tasmota, "DS18B20", "Temperature"}};
  Client shackd(client_config(broker.uri(), "shackd-sensors"));
  shackd.subscribe("tele/t1/SENSOR");
  shackd.start();
  Client device(client_config(broker.uri(), "tasmota-t1"));
  device.start();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while ((!shackd.connected() || !device.connected()) && std::chrono::steady_clock::now() < deadline) {
    shackd.poll(20ms);
    device.poll(20ms);
  }
  REQUIRE(shackd.connected());
  // Until shackd's subscription is in place the broker drops what the device says: probe until
  // a reading arrives, bounded.
  bool subscribed = false;
  for (int i = 0; i < 50 && !subscribed; ++i) {
    device.publish("tele/t1/SENSOR", R"({"DS18B20":{"Temperature":1.0}})", 1, false);
    const auto probe_until = std::chrono::steady_clock::now() + 100ms;
    while (!subscribed && std::chrono::steady_clock::now() < probe_until) {
      const auto e = shackd.poll(10ms);
      subscribed = e && e->kind == Event::Kind::message;
    }
  }
  REQUIRE(subscribed);
  while (shackd.poll(200ms)) {
  }
  device.publish("tele/t1/SENSOR", R"({"DS18B20":{"Temperature":)", 1, false);
  device.publish("tele/t1/SENSOR", "\xff\xfe garbage", 1, false);
  device.publish("tele/t1/SENSOR", R"({"DS18B20":{"Temperature":24.5}})", 1, false);
  std::vector<std::string> errors;
  std::vector<double> values;
  const auto until = std::chrono::steady_clock::now() + 3s;
  while (values.empty() && std::chrono::steady_clock::now() < until) {
    const auto e = shackd.poll(50ms);
    if (!e || e->kind != Event::Kind::message) continue;
    const auto r = parse_sensor_message(sensors, e->topic, e->payload);
    for (const auto& x : r.errors) errors.push_back(x);
    for (const auto& x : r.readings) values.push_back(x.value);
  }
  CHECK(errors.size() == 2);
  REQUIRE(values.size() == 1);
  CHECK(values[0] == doctest::Approx(24.5));
}

TEST_CASE("online on connect; offline on a clean shutdown; the broker's will on SIGKILL") {
  test::Broker broker;
  Client watcher(client_config(broker.uri(), "watcher"));
  watcher.subscribe("probe/status");
  watcher.start();
  std::vector<std::string> seen;
  const auto watch = [&](const std::string& want, std::chrono::milliseconds bound) {
    const auto until = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < until) {
      const auto e = watcher.poll(20ms);
      if (e && e->kind == Event::Kind::message) {
        seen.push_back(e->payload);
        if (e->payload == want) return true;
      }
    }
    return false;
  };
  watch("", 500ms);

  for (const bool clean : {true, false}) {
    CAPTURE(clean);
    int in[2], out[2];
    REQUIRE(pipe(in) == 0);
    REQUIRE(pipe(out) == 0);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      execl(SHACKD_MQTT_PROBE, "mqtt_probe", broker.uri().c_str(), "probe/status", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    char buf[64] = {};
    REQUIRE(read(out[0], buf, sizeof buf - 1) > 0);
    CHECK(std::string(buf).find("connected") == 0);
    CHECK(watch("online", 3000ms));
    if (clean) {
      REQUIRE(write(in[1], "shutdown\n", 9) == 9);
    } else {
      kill(pid, SIGKILL);
    }
    CHECK(watch("offline", 5000ms));
    waitpid(pid, nullptr, 0);
    close(in[1]);
    close(out[0]);
  }
}

namespace {

// Pumps `client` until it connects or reports a failed connect; returns the failures seen.
std::vector<std::string> connect_failures(Client& client, std::chrono::milliseconds bound, int want = 1) {
  std::vector<std::string> failures;
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < deadline && static_cast<int>(failures.size()) < want && !client.connected()) {
    if (const auto e = client.poll(20ms); e && e->kind == Event::Kind::connect_failed) failures.push_back(e->payload);
  }
  return failures;
}

}  // namespace

TEST_CASE("a broker that refuses the password says so, and the client keeps retrying with backoff") {
  test::Broker broker("shackd", "right-password");
  const std::string pw = (std::filesystem::temp_directory_path() / ("shackd-pw-" + std::to_string(getpid()))).string();
  std::ofstream(pw) << "wrong-password\n";
  auto c = client_config(broker.uri(), "shackd-auth-test");
  c.username = "shackd";
  c.password_file = pw;
  Client client(c);
  client.start();
  const auto failures = connect_failures(client, 8000ms, 2);  // the first, and one retry after backoff
  std::filesystem::remove(pw);
  REQUIRE(failures.size() == 2);
  CHECK_FALSE(client.connected());
  // mosquitto answers a wrong password with CONNACK 5 (MQTT 3.1.1), some brokers with 4.
  CHECK((failures[0].find("not authorised (CONNACK 5)") != std::string::npos ||
         failures[0].find("bad user name or password (CONNACK 4)") != std::string::npos));
  CHECK(client.last_failure() == failures[1]);
  client.shutdown(500ms);
}

TEST_CASE("no broker listening: the failure names the address, and the broker is reached once it comes up") {
  const int port = test::free_port();
  const std::string uri = "tcp://127.0.0.1:" + std::to_string(port);
  Client client(client_config(uri, "shackd-nobroker-test"));
  client.start();
  const auto failures = connect_failures(client, 5000ms);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0] == "cannot connect to " + uri + ": no broker is listening there, or it is unreachable");
  // A broker that was never there is tried again by the link as one that went away.
  test::Broker late("", "", port);
  connect_failures(client, 8000ms, 100);
  CHECK(client.connected());
  CHECK(client.last_failure().empty());
  client.shutdown(500ms);
}

TEST_CASE("a Shelly Gen2 relay already in the commanded state is confirmed by its RPC reply") {
  // A real Gen2 device sends NotifyStatus only when something changes: commanding OFF to a switch
  // that is off yields the Switch.Set reply and nothing else. The reply must confirm it, or a
  // healthy heater relay raises relay_unconfirmed all day and its OFF is resent at every retry.
  test::Broker broker;
  const auto cfg = relay(RelayProtocol::shelly_gen2, "heater");
  test::RelayEmulator device(broker.uri(), cfg);
  // The desired state is resent every 2 s here: each resend is a Switch.Set with no change.
  Side side(broker.uri(), {cfg}, RelayTiming{5s, 1s, 1s, 2s});
  side.client.start();
  REQUIRE(side.pump_until([&] { return side.client.subscribed() && device.subscribed(); }));
  side.relays.set_desired("heater", true, std::chrono::steady_clock::now());
  REQUIRE(side.pump_until([&] { return side.relays.status("heater").observed == std::optional<bool>(true); }));
  side.relays.set_desired("heater", false, std::chrono::steady_clock::now());
  REQUIRE(side.pump_until([&] { return side.relays.status("heater").observed == std::optional<bool>(false); }));
  const int notifies_before = device.notifies();
  std::vector<RelayAlarm> alarms;
  side.pump_until([&] {
    for (auto& a : side.relays.take_alarms()) alarms.push_back(a);
    return false;
  }, 7000ms);  // past one resend and its 1 s confirmation window
  for (const auto& a : alarms) CHECK_MESSAGE(a.code != "relay_unconfirmed", a.detail);
  CHECK_FALSE(side.relays.status("heater").unconfirmed);
  CHECK(device.notifies() == notifies_before);  // like the device, the emulator said nothing new
  int sets = 0;
  for (const auto& m : device.received()) sets += m.topic == cfg.topic + "/rpc";
  CHECK(sets >= 3);  // ON, OFF and at least one resend of OFF
  CHECK(sets <= 4);  // and no retries on top
  side.client.shutdown(500ms);
}

namespace {

// A CA and two server certificates it signs, made with the openssl command: one for the name the
// client asks for (IP:127.0.0.1) and one for another name (evil.example), the certificate any
// other holder of a certificate from the same CA could present.
struct TestPki {
  std::filesystem::path dir;
  TestPki() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "shackd-pki-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
    const std::string d = "'" + dir.string() + "'";
    const std::string key = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    run("openssl req -x509" + key + " -keyout " + d + "/ca.key -out " + d + "/ca.crt -days 2 -subj '/CN=shackd test CA'");
    server("good", "IP:127.0.0.1", key);
    server("evil", "DNS:evil.example", key);
    // As root, mosquitto drops to its own user: it must be able to read these (test keys only).
    std::filesystem::permissions(dir, std::filesystem::perms::all & ~std::filesystem::perms::others_write &
                                          ~std::filesystem::perms::group_write);
    for (const auto& f : std::filesystem::directory_iterator(dir)) {
      std::filesystem::permissions(f.path(), std::filesystem::perms::owner_read | std::filesystem::perms::group_read |
                                                 std::filesystem::perms::others_read,
                                   std::filesystem::perm_options::add);
    }
  }
  ~TestPki() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string path(const std::string& file) const { return (dir / file).string(); }

 private:
  static void run(const std::string& cmd) {
    REQUIRE_MESSAGE(std::system((cmd + " >/dev/null 2>&1").c_str()) == 0, "failed: " << cmd);
  }
  void server(const std::string& name, const std::string& san, const std::string& key) {
    const std::string d = "'" + dir.string() + "'/";
    std::ofstream(dir / (name + ".ext")) << "subjectAltName=" << san << "\n";
    run("openssl req" + key + " -keyout " + d + name + ".key -out " + d + name + ".csr -subj '/CN=" + name + "'");
    run("openssl x509 -req -in " + d + name + ".csr -CA " + d + "ca.crt -CAkey " + d + "ca.key -CAcreateserial -days 2 -out " +
        d + name + ".crt -extfile " + d + name + ".ext");
  }
};

std::string tls_listener(int port, const TestPki& pki, const std::string& name) {
  return "listener " + std::to_string(port) + " 127.0.0.1\ncafile " + pki.path("ca.crt") + "\ncertfile " +
         pki.path(name + ".crt") + "\nkeyfile " + pki.path(name + ".key") + "\n";
}

}  // namespace

// Issue 27, S4: with ssl://127.0.0.1 and a certificate for evil.example signed by the trusted CA,
// shackd connected. The same broker, CA and client settings with a certificate that names
// 127.0.0.1 connect: the refusal is the host name's, not a broken listener's.
TEST_CASE("TLS: a broker whose certificate names another host is refused; one that names it is taken") {
  TestPki pki;
  const int good_port = test::free_port();
  const int evil_port = test::free_port();
  REQUIRE(good_port != evil_port);
  test::Broker broker("", "", 0, tls_listener(good_port, pki, "good") + tls_listener(evil_port, pki, "evil"));
  for (const int port : {good_port, evil_port}) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!test::port_open(port)) {
      REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "the TLS listener on " << port << " did not open");
      std::this_thread::sleep_for(20ms);  // waiting on a process: bounded
    }
  }
  auto tls_client = [&](int port, const std::string& id) {
    auto c = client_config("ssl://127.0.0.1:" + std::to_string(port), id);
    c.ca_file = pki.path("ca.crt");
    return c;
  };

  Client evil(tls_client(evil_port, "shackd-tls-evil"));
  evil.start();
  const auto failures = connect_failures(evil, 5000ms);
  REQUIRE(failures.size() == 1);
  CHECK_FALSE(evil.connected());
  // Said in words that name the host name (issue 48: a TLS failure never said "host name mismatch").
  CHECK(failures[0].find("host name mismatch: the broker's certificate does not name 127.0.0.1") != std::string::npos);
  CHECK(failures[0].find("subjectAltName IP:127.0.0.1") != std::string::npos);

  Client good(tls_client(good_port, "shackd-tls-good"));
  good.start();
  CHECK(connect_failures(good, 5000ms).empty());
  CHECK(good.connected());
  // And still not the other one, through its retries (their timing is the refused-password case's).
  connect_failures(evil, 3000ms);
  CHECK_FALSE(evil.connected());
  good.shutdown(500ms);
  evil.shutdown(500ms);
}

// Issue 56: a relay OFF reaches the broker as soon as it is back. shackd's side talks to a real
// mosquitto through a forwarder the test cuts (tests/support/tcp_cutter.hpp); the relay and a
// watcher talk to the broker directly, so the watcher hears when the OFF reaches the broker.
// shackd's side is pumped every 2 s, as a cycle would: the OFF must not wait for it.
namespace {

// Hears every relay command on the broker itself, with when it arrived.
struct CommandWatcher {
  Client client;
  std::mutex m;
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> heard;  // payload, at
  std::atomic<bool> stop{false};
  std::thread thread;
  CommandWatcher(const std::string& uri, const std::string& topic) : client(client_config(uri, "cmd-watcher")) {
    client.subscribe(topic);
    client.start();
    thread = std::thread([this] {
      while (!stop) {
        if (const auto e = client.poll(5ms); e && e->kind == Event::Kind::message) {
          std::lock_guard l(m);
          heard.emplace_back(e->payload, std::chrono::steady_clock::now());
        }
      }
    });
  }
  ~CommandWatcher() {
    stop = true;
    thread.join();
  }
  std::optional<std::chrono::steady_clock::time_point> first(const std::string& payload,
                                                             std::chrono::steady_clock::time_point after) {
    std::lock_guard l(m);
    for (const auto& [p, at] : heard) {
      if (p == payload && at >= after) return at;
    }
    return std::nullopt;
  }
};

// shackd's client, its relay manager with the relays' lane, pumped like a cycle.
struct LaneSide {
  Client client;
  RelayManager relays;
  explicit LaneSide(const std::string& uri, const std::vector<RelayConfig>& r)
      : client(client_config(uri, "shackd-lane")),
        relays(
            r, RelayTiming{3600s, 10s, 5s, 40s},
            [this](const std::string& topic, const std::string& p, int qos, bool retain) { return client.publish(topic, p, qos, retain); },
            [this](const std::string& id, std::vector<Outgoing> cmds) { client.stand(id, std::move(cmds)); }) {
    for (const auto& s : relays.subscriptions()) client.subscribe(s);
  }
  // One "cycle": what came in, the relays' tick.
  void cycle() {
    while (const auto e = client.poll(0ms)) {
      const auto now = std::chrono::steady_clock::now();
      if (e->kind == Event::Kind::connected) relays.on_connected(now);
      else if (e->kind == Event::Kind::lost) relays.on_lost();
      else if (e->kind == Event::Kind::message) relays.on_message(e->topic, e->payload, now, e->retained);
    }
    relays.tick(std::chrono::steady_clock::now());
  }
  // Cycles every `interval` for `span`, calling `each` first.
  void cycles_for(std::chrono::milliseconds span, const std::function<void()>& each = {},
                  std::chrono::milliseconds interval = 2000ms) {
    const auto until = std::chrono::steady_clock::now() + span;
    while (std::chrono::steady_clock::now() < until) {
      if (each) each();
      cycle();
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(interval, until - std::chrono::steady_clock::now()));
    }
  }
};

}  // namespace

TEST_CASE("a relay OFF decided during a 45 s broker outage reaches the broker within 2 s of its return") {
  test::Broker broker;
  test::TcpCutter cutter(broker.port());
  const auto cfg = relay(RelayProtocol::tasmota, "primary");
  test::RelayEmulator emu(broker.uri(), cfg);
  CommandWatcher watcher(broker.uri(), "cmnd/primary-dev/POWER1");
  LaneSide side(cutter.uri(), {cfg});
  side.client.start();
  side.cycles_for(3000ms, {}, 100ms);
  REQUIRE(side.client.connected());
  side.relays.set_desired("primary", true, std::chrono::steady_clock::now());
  side.cycles_for(1000ms, {}, 100ms);
  REQUIRE(emu.on());

  const auto cut_at = std::chrono::steady_clock::now();
  cutter.set_up(false);
  side.cycles_for(10s);
  // The battery crosses its shutdown voltage 10 s into the outage: the decision is OFF.
  side.relays.set_desired("primary", false, std::chrono::steady_clock::now());
  side.cycles_for(std::chrono::duration_cast<std::chrono::milliseconds>(45s - (std::chrono::steady_clock::now() - cut_at)));
  CHECK_FALSE(watcher.first("OFF", cut_at));  // nothing could go
  const auto back_at = std::chrono::steady_clock::now();
  cutter.set_up(true);
  side.cycles_for(4000ms);
  const auto off_at = watcher.first("OFF", cut_at);
  REQUIRE(off_at);
  const auto after_ms = std::chrono::duration_cast<std::chrono::milliseconds>(*off_at - back_at).count();
  MESSAGE("the OFF reached the broker " << after_ms << " ms after it was back");
  CHECK(after_ms <= 2000);
  CHECK_FALSE(emu.on());
  CHECK(side.client.lane_sent() >= 1);
  side.client.shutdown(500ms);
}

TEST_CASE("a broker flapping 1 s / 1 s and 1.3 s / 0.7 s: the OFF goes out in the first up period after the decision") {
  for (const auto& period : {std::pair{1000, 1000}, std::pair{1300, 700}}) {
    const int up_ms = period.first, down_ms = period.second;  // not bindings: clang 14's lambdas cannot capture those
    CAPTURE(up_ms);
    test::Broker broker;
    test::TcpCutter cutter(broker.port());
    const auto cfg = relay(RelayProtocol::tasmota, "primary");
    test::RelayEmulator emu(broker.uri(), cfg);
    CommandWatcher watcher(broker.uri(), "cmnd/primary-dev/POWER1");
    LaneSide side(cutter.uri(), {cfg});
    side.client.start();
    side.cycles_for(2000ms, {}, 100ms);
    REQUIRE(side.client.connected());
    side.relays.set_desired("primary", true, std::chrono::steady_clock::now());
    side.cycles_for(1000ms, {}, 100ms);
    REQUIRE(emu.on());
    // The flapping, on a thread of its own; each up period's start recorded.
    std::mutex m;
    std::vector<std::chrono::steady_clock::time_point> ups;
    std::atomic<bool> flapping{true};
    std::thread flap([&] {
      while (flapping) {
        cutter.set_up(false);
        std::this_thread::sleep_for(std::chrono::milliseconds(down_ms));
        {
          std::lock_guard l(m);
          ups.push_back(std::chrono::steady_clock::now());
        }
        cutter.set_up(true);
        std::this_thread::sleep_for(std::chrono::milliseconds(up_ms));
      }
    });
    side.cycles_for(8s);  // the back-off of the old link reached 8 s here
    // The decision, taken in a down period: the first up period's start after it.
    std::chrono::steady_clock::time_point decided;
    // In a down period, once shackd's side has seen its connection go (the forwarder closes it
    // within its next turn).
    for (int i = 0; i < 800; ++i) {
      if (!cutter.up() && !side.client.connected()) break;
      std::this_thread::sleep_for(5ms);
    }
    REQUIRE_FALSE(side.client.connected());
    decided = std::chrono::steady_clock::now();
    side.relays.set_desired("primary", false, decided);
    side.cycles_for(8s);
    flapping = false;
    flap.join();
    std::optional<std::chrono::steady_clock::time_point> first_up;
    {
      std::lock_guard l(m);
      for (const auto at : ups) {
        if (at > decided) {
          first_up = at;
          break;
        }
      }
    }
    REQUIRE(first_up);
    const auto off_at = watcher.first("OFF", decided);
    REQUIRE(off_at);
    const auto after_ms = std::chrono::duration_cast<std::chrono::milliseconds>(*off_at - *first_up).count();
    MESSAGE("the OFF reached the broker " << after_ms << " ms into the first up period after the decision (up "
                                          << up_ms << " ms, down " << down_ms << " ms)");
    CHECK(after_ms < up_ms);
    side.client.shutdown(500ms);
  }
}

TEST_CASE("a neighbour's 4 MiB message: the link keeps no more than 64 KiB and a byte of it, the next message is read") {
  test::Broker broker;
  Client shackd(client_config(broker.uri(), "shackd-big"));
  shackd.subscribe("big/#");
  shackd.start();
  Client neighbour(client_config(broker.uri(), "neighbour"));
  neighbour.start();
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < until && !(shackd.connected() && neighbour.connected())) shackd.poll(20ms);
  REQUIRE(shackd.connected());
  REQUIRE(neighbour.connected());
  // Subscribed once its connect's events are drained and a message on the filter comes back.
  std::vector<Event> got;
  const auto read_until = [&](const std::function<bool()>& done) {
    const auto end = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < end && !done()) {
      if (const auto e = shackd.poll(20ms); e && e->kind == Event::Kind::message) got.push_back(*e);
    }
    return done();
  };
  REQUIRE(read_until([&] {
    neighbour.publish("big/probe", "x", 1, false);
    return !got.empty();
  }));
  got.clear();
  REQUIRE(neighbour.publish("big/huge", std::string(4 << 20, 'z'), 1, false));
  REQUIRE(neighbour.publish("big/small", "ok", 1, false));
  const auto on = [&](const std::string& topic) -> const Event* {
    for (const auto& e : got) {
      if (e.topic == topic) return &e;
    }
    return nullptr;
  };
  REQUIRE(read_until([&] { return on("big/small") != nullptr; }));  // after the huge one, in order
  REQUIRE(on("big/huge"));
  CHECK(on("big/huge")->payload.size() == kMaxMessageBytes + 1);
  CHECK(on("big/small")->payload == "ok");
  neighbour.shutdown(500ms);
  shackd.shutdown(500ms);
}

// Issue 57: the bulk lane hands libmosquitto at most its window of messages not yet done, so a relay
// command published during a burst of 1,000 (Home Assistant's discovery at a connect, the outbox's
// backlog after an outage) is written behind that window, never behind the burst: libmosquitto
// writes its one queue in order. The path to the broker is held (a forwarder that carries nothing,
// so no PUBACK comes back): the burst's thread fills the window and waits; the command goes; once
// the path is let go, the broker gets the window, then the command, then the rest of the burst.
// Before the lanes every message went to the library at once: the command came 1,001st.
TEST_CASE("a relay command goes out behind the bulk lane's window, not behind a 1,000-message burst") {
  test::Broker broker;
  test::TcpCutter path(broker.port());
  Client spy(client_config(broker.uri(), "spy"));
  spy.subscribe("bulk/#");
  spy.subscribe("cmnd/#");
  spy.start();
  Client shackd(client_config(path.uri(), "shackd-test"));
  shackd.start();
  const auto until = [](const std::function<bool()>& done, std::chrono::milliseconds bound) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (!done() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(2ms);
    return done();
  };
  REQUIRE(until([&] { return spy.subscribed() && shackd.connected(); }, 5000ms));
  path.set_held(true);
  std::this_thread::sleep_for(50ms);  // the forwarder's turn (20 ms) has passed: nothing is carried
  constexpr int kBurst = 1000;
  std::atomic<int> taken{0};
  std::atomic<bool> quit{false};
  std::thread burst([&] {  // the publisher's thread
    for (int i = 0; i < kBurst && !quit; ++i) {
      // QoS 1, as Home Assistant's discovery; 30 s: the path is let go long before.
      if (shackd.publish_bulk("bulk/" + std::to_string(i), std::string(200, 'd'), 1, false, 30000ms)) ++taken;
    }
  });
  struct Joined {  // whatever fails below, the path is let go and the burst's thread ended first
    test::TcpCutter& path;
    std::thread& burst;
    std::atomic<bool>& quit;
    ~Joined() {
      quit = true;
      path.set_held(false);
      if (burst.joinable()) burst.join();
    }
  } joined{path, burst, quit};
  REQUIRE(until([&] { return shackd.bulk_in_window() == Client::kBulkWindow; }, 5000ms));
  std::this_thread::sleep_for(50ms);  // the burst's thread waits for room: nothing more is handed over
  CHECK(shackd.bulk_in_window() == Client::kBulkWindow);
  CHECK(taken == static_cast<int>(Client::kBulkWindow));
  REQUIRE(shackd.publish("cmnd/primary/POWER1", "OFF", 1, false));  // the relay lane
  path.set_held(false);
  int bulk_before = 0, bulk_all = 0;
  bool command = false;
  REQUIRE(until([&] {
    while (const auto e = spy.poll(0ms)) {
      if (e->kind != Event::Kind::message) continue;
      if (e->topic == "cmnd/primary/POWER1") command = true;
      else if (e->topic.rfind("bulk/", 0) == 0) {
        ++bulk_all;
        if (!command) ++bulk_before;
      }
    }
    return command && bulk_all == kBurst;
  }, 30000ms));
  burst.join();  // done: every message was taken
  CHECK(taken == kBurst);  // paced, none refused
  CHECK(bulk_before == static_cast<int>(Client::kBulkWindow));  // the window, and nothing more
  CHECK(shackd.bulk_waited() > 0);
  shackd.shutdown(500ms);
  spy.shutdown(500ms);
}

TEST_CASE("the stop's last words: shutdown waits for the broker to have handled them, within its bound") {
  // A stop's last messages (a shadow's retained documents cleared, a relay's OFF) reach the
  // broker's socket, not yet its hands, when the client disconnects. The library closes its socket
  // right after DISCONNECT; with a PUBACK unread in it, the close resets the connection and the
  // broker drops what it had not read yet (CI, on a loaded machine: mosquitto logged "disconnected
  // due to out of memory" and the shadow's documents stayed retained). shutdown() now waits for
  // the PUBACK of its own "offline", which the broker sends after handling everything before it.
  test::Broker broker;
  test::TcpCutter path(broker.port());
  ClientConfig config = client_config(path.uri(), "goodbye");
  config.status_topic = "last/status";
  Client shackd(config);
  shackd.start();
  const auto until = [](const std::function<bool()>& done, std::chrono::milliseconds bound) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (!done() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(2ms);
    return done();
  };
  REQUIRE(until([&] { return shackd.connected(); }, 5000ms));

  // 1. A stalled path at the stop: shutdown() waits for it; let go, everything arrives.
  path.set_held(true);
  std::this_thread::sleep_for(50ms);  // the forwarder's turn (20 ms) has passed: nothing is carried
  constexpr int kLast = 20;
  for (int i = 0; i < kLast; ++i) {
    // Both lanes, QoS 0 and 1: each retained, so that the broker's copy says it was handled.
    const std::string topic = "last/" + std::to_string(i);
    if (i % 2 == 0) {
      REQUIRE(shackd.publish(topic, "bye", i % 4 == 0 ? 1 : 0, true));
    } else {
      REQUIRE(shackd.publish_bulk(topic, "bye", i % 4 == 1 ? 1 : 0, true, 1000ms));
    }
  }
  std::atomic<bool> returned{false};
  std::thread stop([&] {
    shackd.shutdown(8000ms);
    returned = true;
  });
  struct Joined {  // whatever fails below, the path is let go and the stop's thread ended first
    test::TcpCutter& path;
    std::thread& stop;
    ~Joined() {
      path.set_held(false);
      if (stop.joinable()) stop.join();
    }
  } joined{path, stop};
  std::this_thread::sleep_for(300ms);
  CHECK_FALSE(returned);  // waiting for the broker's word on "offline", not only for the socket
  path.set_held(false);
  stop.join();
  CHECK(returned);

  Client reader(client_config(broker.uri(), "reader"));
  reader.subscribe("last/#");
  reader.start();
  std::set<std::string> retained;
  std::string status;
  until([&] {
    while (const auto e = reader.poll(0ms)) {
      if (e->kind != Event::Kind::message) continue;
      if (e->topic == "last/status") status = e->payload;
      else retained.insert(e->topic);
    }
    return status == "offline" && static_cast<int>(retained.size()) == kLast;
  }, 5000ms);
  CHECK(static_cast<int>(retained.size()) == kLast);
  CHECK(status == "offline");

  // 2. A path that never comes back: the stop ends within its bound all the same (the broker's
  // will says offline later), with no acknowledgement awaited past 3/4 of it.
  Client stalled(client_config(path.uri(), "stalled"));
  stalled.start();
  REQUIRE(until([&] { return stalled.connected(); }, 5000ms));
  path.set_held(true);
  std::this_thread::sleep_for(50ms);
  REQUIRE(stalled.publish("last/stalled", "bye", 1, true));
  const auto began = std::chrono::steady_clock::now();
  stalled.shutdown(1000ms);
  const auto took = std::chrono::steady_clock::now() - began;
  MESSAGE("a stalled broker's stop took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                                          << " ms (bound 1000 ms)");
  CHECK(took < 3000ms);  // its bound, with room for a loaded machine; without one it waited forever
  path.set_held(false);
  reader.shutdown(500ms);
}
