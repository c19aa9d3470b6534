// Daemon::cycle() driven in process through its seams (daemon/loop/seams.hpp): a stepped clock,
// a scripted GX standing in for the poller, and an in-process MQTT link that records what is
// published (FakeLink). The database is a real SQLite file and the config a real YAML file;
// nothing else runs.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "daemon/loop/daemon.hpp"
#include "daemon/system/signals.hpp"
#include "tests/support/fake_link.hpp"
#include "tests/support/scripted_device.hpp"

using namespace std::chrono_literals;

namespace {

using test::ScriptedDevice;
using test::StepClock;

const char* kConfig = R"(site:
  name: cycle
database:
  path: {DB}
loop:
  interval_ms: 1000
devices:
  victron:
    host: 127.0.0.1
    port: 1502
    battery_unit: 225
mqtt:
  uri: tcp://127.0.0.1:1
  prefix: shack
relays:
  primary_s21: {protocol: tasmota, topic: primary_s21}
  dump_s19_1: {protocol: tasmota, topic: dump_s19_1}
  heat_room_fan: {protocol: tasmota, topic: heat_room_fan}
  heat_room_heater: {protocol: tasmota, topic: heat_room_heater}
  main_room_fan: {protocol: tasmota, topic: main_room_fan}
  main_room_heater: {protocol: tasmota, topic: main_room_heater}
sensors:
  heat_room_temp: {topic: tele/heat_room_temp/SENSOR, format: tasmota, key: DS18B20}
  main_room_temp: {topic: tele/main_room_temp/SENSOR, format: tasmota, key: DS18B20}
safety:
  charge_block_action: [dvcc]
profiles:
  site:
    electrical_stale_after_s: 3
    stagger_s: 0
  miners:
    - name: "Primary S21+"
      start_delay_s: 1
      stop_delay_s: 1
      min_on_s: 0
      min_off_s: 0
      max_starts_per_hour: 0
      schedule: ""
      operating_mode: balanced
    - name: "Dump Load S19 #1"
      enabled: false
  zones:                      # the seed's: Heat Room holds the battery (no charging below 0 °C)
    - name: Heat Room
    - name: Main Room
)";

struct Site {
  std::filesystem::path dir;
  std::filesystem::path config;
  StepClock clock;
  ScriptedDevice* gx = nullptr;
  int devices_made = 0;  // pollers built: at start, and again only when the devices: section changes
  std::vector<std::pair<std::string, std::string>> sent;  // topic, payload
  test::FakeBroker broker;  // the daemon's MQTT side runs on it; what it publishes lands in `sent`
  std::unique_ptr<shackd::Daemon> daemon;

  Site() {
    char tmpl[] = "/tmp/shackd-cycle-XXXXXX";
    dir = mkdtemp(tmpl);
    config = dir / "shackd.yaml";
    write_config(kConfig);
    shackd::Seams seams;
    seams.clock = &clock;
    seams.make_device = [this](drivers::DeviceConfig c) {
      ++devices_made;
      auto d = std::make_unique<ScriptedDevice>(std::move(c), clock);
      gx = d.get();
      d->values = {{"system.battery_v", 54.0}, {"battery.battery_v", 54.0}, {"battery.min_cell_temp_c", 15.0},
                   {"system.pv_w", 3000}, {"system.load_w", 400}};
      return d;
    };
    broker.on_publish = [this](const test::FakeBroker::Message& m) { sent.emplace_back(m.topic, m.payload); };
    seams.make_mqtt = test::links_to(broker);
    daemon = std::make_unique<shackd::Daemon>(shackd::RunOptions{config.string(), false, false}, std::move(seams));
  }
  ~Site() {
    daemon.reset();
    std::filesystem::remove_all(dir);
  }
  void write_config(std::string text) {
    text.replace(text.find("{DB}"), 4, (dir / "shackd.db").string());
    std::ofstream(config) << text;
  }
  void cycles(int n, std::chrono::milliseconds step = 1000ms) {
    for (int i = 0; i < n; ++i) {
      clock.step(step);
      daemon->cycle();
      REQUIRE(daemon->settle());  // the recorder's thread has written what the cycle handed it
    }
  }
  // The last payload sent on `topic`, "" if none.
  std::string last(const std::string& topic) const {
    for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
      if (it->first == topic) return it->second;
    }
    return "";
  }
  // Whether an event containing `text` was sent since message number `from`.
  bool event_since(std::size_t from, const std::string& text) const {
    for (std::size_t i = from; i < sent.size(); ++i) {
      if (sent[i].first == "shack/event" && sent[i].second.find(text) != std::string::npos) return true;
    }
    return false;
  }
  const rules::LoadDecision& primary() const { return daemon->loop().decision().miners.at(0); }
};

}  // namespace

TEST_CASE("the cycle in process: a device that goes stale and comes back") {
  Site s;
  REQUIRE_FALSE(s.daemon->start());
  s.cycles(3);
  CHECK(s.daemon->loop().decision().battery.measured_v == doctest::Approx(54.0));
  CHECK(s.last("shack/device/victron/health").find("\"consecutive_failures\":0") != std::string::npos);

  const std::size_t before = s.sent.size();
  s.gx->answering = false;
  s.cycles(5);  // past electrical_stale_after_s (3 s)
  CHECK(s.event_since(before, "victron: not answering: timed out"));
  CHECK_FALSE(s.daemon->loop().decision().battery.measured_v);
  CHECK_FALSE(s.primary().on);
  // Published at once when it stopped answering (its first failure), not at the next minute.
  CHECK(s.last("shack/device/victron/health").find("\"consecutive_failures\":1") != std::string::npos);

  const std::size_t down = s.sent.size();
  s.gx->answering = true;
  s.cycles(2);
  CHECK(s.event_since(down, "victron: reading again"));
  CHECK(s.daemon->loop().decision().battery.measured_v == doctest::Approx(54.0));
}

TEST_CASE("the cycle in process: an override that expires") {
  Site s;
  REQUIRE_FALSE(s.daemon->start());
  s.cycles(2);
  s.broker.message("shack/load/primary_s21/mode/set", "off 10s", false);
  s.cycles(1);
  CHECK(s.last("shack/load/primary_s21/mode") == "off");
  CHECK(s.primary().reason.code == rules::ReasonCode::override_off);
  CHECK_FALSE(s.primary().on);
  // A retained command is stale: ignored. A malformed one is refused with an event.
  const std::size_t before = s.sent.size();
  s.broker.message("shack/load/primary_s21/mode/set", "on", true);
  s.broker.message("shack/load/primary_s21/mode/set", "sideways", false);
  s.cycles(1);
  CHECK(s.primary().reason.code == rules::ReasonCode::override_off);
  CHECK(s.event_since(before, "is not auto, on or off"));
  s.cycles(10);  // past the 10 s
  CHECK(s.last("shack/load/primary_s21/mode") == "auto");
  CHECK(s.primary().reason.code != rules::ReasonCode::override_off);
}

TEST_CASE("the cycle in process: a load's reason is published again when its value moves, not only its code") {
  Site s;
  REQUIRE_FALSE(s.daemon->start());
  s.cycles(3);
  REQUIRE(s.primary().on);
  const auto reason_value = [&] {
    const auto j = nlohmann::json::parse(s.last("shack/load/primary_s21/reason"), nullptr, false);
    return j.is_object() && j.contains("value") ? j["value"].get<double>() : -1.0;
  };
  CHECK(reason_value() == doctest::Approx(54.0));
  const auto count = [&] {
    return std::count_if(s.sent.begin(), s.sent.end(), [](const auto& m) { return m.first == "shack/load/primary_s21/reason"; });
  };
  const auto before = count();
  // A sag within the same reason (running, above its stop): the words follow the bank.
  for (const double v : {53.9, 53.85, 51.0, 49.2}) {
    s.gx->values["system.battery_v"] = v;
    s.gx->values["battery.battery_v"] = v;
    s.cycles(1);
  }
  CHECK(s.primary().reason.code == rules::ReasonCode::running);
  CHECK(reason_value() == doctest::Approx(49.2));
  CHECK(count() - before == 2);  // 53.9 and 53.85 are within 1 % of the 47 V limit: not news
}

TEST_CASE("the cycle in process: a refused reload keeps the running config") {
  Site s;
  REQUIRE_FALSE(s.daemon->start());
  s.cycles(2);
  std::string bad = kConfig;
  bad.replace(bad.find("interval_ms: 1000"), 17, "interval_ms: -5");
  s.write_config(bad);
  const std::size_t before = s.sent.size();
  shackd::signals::reload = true;
  s.cycles(2);  // the reload runs on its thread, taken at the next cycle
  CHECK_FALSE(shackd::signals::reload);
  CHECK(s.event_since(before, "reload refused"));
  CHECK(s.event_since(before, "loop.interval_ms"));
  // The loop goes on deciding on the running config.
  CHECK(s.daemon->loop().decision().battery.measured_v == doctest::Approx(54.0));
  CHECK(s.last("shack/state").find("\"battery_v\":54") != std::string::npos);
}

TEST_CASE("the cycle in process: the charge block's DVCC write, failing each way") {
  Site s;
  REQUIRE_FALSE(s.daemon->start());
  s.cycles(2);
  CHECK(s.gx->writes.empty());

  // Cold: charging blocked. The first 0 A write fails outright; it is retried the next cycle.
  s.gx->write_results = {{std::nullopt, "timed out"}, {50, ""}};
  std::size_t before = s.sent.size();
  s.gx->values["battery.min_cell_temp_c"] = -3.0;
  s.cycles(4);
  CHECK(s.daemon->loop().decision().block_charging);
  REQUIRE(s.gx->writes.size() == 2);
  CHECK(s.gx->writes[0].unit == 100);
  CHECK(s.gx->writes[0].address == 2705);
  CHECK(s.gx->writes[0].value == 0);
  CHECK(s.event_since(before, "dvcc_write_failed: timed out"));
  CHECK(s.event_since(before, "dvcc set to 0 A (was 50 A) after 2 tries"));

  // Warm again: the limit goes back to 50. That write fails too (its read-back lost: it may
  // have landed), and is retried until confirmed.
  s.gx->write_results = {{std::nullopt, "read-back failed"}, {0, ""}};
  before = s.sent.size();
  s.gx->values["battery.min_cell_temp_c"] = 15.0;
  s.cycles(4);
  CHECK_FALSE(s.daemon->loop().decision().block_charging);
  REQUIRE(s.gx->writes.size() == 4);
  CHECK(s.gx->writes[2].value == 50);
  CHECK(s.gx->writes[3].value == 50);
  CHECK(s.event_since(before, "dvcc_write_failed: read-back failed"));
  CHECK(s.event_since(before, "dvcc restored to 50 A after 2 tries"));
  s.cycles(3);
  CHECK(s.gx->writes.size() == 4);  // confirmed: nothing more written
}

TEST_CASE("the cycle in process: a renamed site keeps its Home Assistant ids") {
  Site s;
  REQUIRE_FALSE(s.daemon->start());
  s.cycles(1);
  const auto config_topic = [&](const std::string& payload_part) {
    for (const auto& [t, p] : s.sent) {
      if (t.starts_with("homeassistant/") && p.find(payload_part) != std::string::npos) return t + " " + p;
    }
    return std::string();
  };
  const std::string before = config_topic("\"unique_id\":\"shackd_cycle_");
  REQUIRE_FALSE(before.empty());
  std::string renamed = kConfig;
  renamed.replace(renamed.find("name: cycle"), 11, "name: Cabin on the Hill");
  s.write_config(renamed);
  s.sent.clear();
  shackd::signals::reload = true;
  s.cycles(2);  // the reload runs on its thread, taken at the next cycle
  CHECK(config_topic("\"name\":\"shackd Cabin on the Hill\"") != "");  // the device's new name
  CHECK(config_topic("shackd_cabin_on_the_hill") == "");
  CHECK(config_topic("\"unique_id\":\"shackd_cycle_") != "");
}

TEST_CASE("the cycle in process: a miner's start voltage set over MQTT (mqtt.allow_settings)") {
  Site s;
  std::string config = kConfig;
  config.replace(config.find("  prefix: shack\n"), 16, "  prefix: shack\n  allow_settings: true\n");
  // The file gives the primary's stop voltage: that one stays the file's.
  config.replace(config.find("      start_delay_s: 1\n"), 23, "      stop_voltage: 47.0\n      start_delay_s: 1\n");
  s.write_config(config);
  REQUIRE_FALSE(s.daemon->start());
  s.cycles(2);
  const double seed_start_v = s.daemon->loop().profiles().rules.miners.at(0).start_v;
  const std::string settings = "shack/load/primary_s21/settings";
  const auto start_published = [&] { return nlohmann::json::parse(s.last(settings)).at("start_voltage").get<double>(); };
  CHECK(start_published() == doctest::Approx(seed_start_v));
  // Home Assistant is offered the start voltage as a number, not the file's stop voltage.
  bool start_offered = false, stop_offered = false;
  for (const auto& [t, p] : s.sent) {
    start_offered = start_offered || t == "homeassistant/number/shackd_cycle/primary_s21_start_voltage/config";
    stop_offered = stop_offered || t == "homeassistant/number/shackd_cycle/primary_s21_stop_voltage/config";
  }
  CHECK(start_offered);
  CHECK_FALSE(stop_offered);

  std::size_t before = s.sent.size();
  s.broker.message("shack/load/primary_s21/start_voltage/set", "51.5", false);
  // Stored before it is in force, on the recorder's thread: the loop never waits for the card.
  CHECK(s.daemon->loop().profiles().rules.miners.at(0).start_v == doctest::Approx(seed_start_v));
  s.cycles(1);  // the recorder stores it (settled) ...
  s.cycles(1);  // ... and the next cycle puts it in force
  CHECK(s.daemon->loop().profiles().rules.miners.at(0).start_v == doctest::Approx(51.5));
  CHECK(start_published() == doctest::Approx(51.5));
  CHECK(s.event_since(before, fmt::format("start_voltage {:.2f} -> 51.50 (set over MQTT)", seed_start_v)));
  {
    shackd::db::Db db((s.dir / "shackd.db").string());
    auto q = db.prepare("SELECT start_voltage FROM miner_profiles WHERE name = 'Primary S21+'");
    REQUIRE(q.step());
    CHECK(q.real(0) == doctest::Approx(51.5));
    auto h = db.prepare("SELECT source, message FROM config_history ORDER BY id DESC LIMIT 1");
    REQUIRE(h.step());
    CHECK(h.text(0) == "mqtt: shack/load/primary_s21/start_voltage/set");
    CHECK(h.text(1).find("51.50") != std::string::npos);
  }

  // Refused, each with its reason, and nothing changed: the file's value, not a number, a start
  // below the stop (the same check as the file's), a load that is no miner, a retained command.
  before = s.sent.size();
  s.broker.message("shack/load/primary_s21/stop_voltage/set", "46", false);
  s.broker.message("shack/load/primary_s21/start_voltage/set", "fifty", false);
  s.broker.message("shack/load/primary_s21/start_voltage/set", "46.5", false);
  s.broker.message("shack/load/heat_room_fan/start_voltage/set", "50", false);
  s.broker.message("shack/load/primary_s21/start_voltage/set", "53", true);
  s.cycles(1);
  CHECK(s.event_since(before, "is set in the config file (profiles.miners[0].stop_voltage"));
  CHECK(s.event_since(before, "expected a number, got 'fifty'"));
  CHECK(s.event_since(before, "start_voltage = '46.5'"));
  CHECK(s.event_since(before, "no miner 'heat_room_fan'"));
  CHECK(s.daemon->loop().profiles().rules.miners.at(0).start_v == doctest::Approx(51.5));
  CHECK(s.daemon->loop().profiles().rules.miners.at(0).stop_v == doctest::Approx(47.0));
  // ... and the settings in force were sent again for the primary, so HA shows them.
  bool resent = false;
  for (std::size_t i = before; i < s.sent.size(); ++i) resent = resent || s.sent[i].first == settings;
  CHECK(resent);

  // A reload applies the file again: the value set over MQTT is not the file's, so it stays.
  shackd::signals::reload = true;
  s.cycles(2);  // the reload runs on its thread, taken at the next cycle
  CHECK(s.daemon->loop().profiles().rules.miners.at(0).start_v == doctest::Approx(51.5));
}

TEST_CASE("the cycle in process: a reload compares sections by value, not by text") {
  Site s;
  REQUIRE_FALSE(s.daemon->start());
  s.cycles(1);
  REQUIRE(s.devices_made == 1);
  // A comment and a reordered key: the devices are the same, so their links stay up.
  std::string same = kConfig;
  same.replace(same.find("    host: 127.0.0.1\n    port: 1502\n"), 34, "    port: 1502    # the GX\n    host: 127.0.0.1\n");
  s.write_config(same);
  shackd::signals::reload = true;
  s.cycles(2);  // the reload runs on its thread, taken at the next cycle
  CHECK(s.devices_made == 1);
  // A changed timeout is a changed device: rebuilt.
  std::string slower = same;
  slower.replace(slower.find("    battery_unit: 225\n"), 22, "    battery_unit: 225\n    timeout_ms: 3000\n");
  s.write_config(slower);
  shackd::signals::reload = true;
  s.cycles(2);  // the reload runs on its thread, taken at the next cycle
  CHECK(s.devices_made == 2);
  CHECK(s.daemon->loop().decision().battery.measured_v == doctest::Approx(54.0));
}
