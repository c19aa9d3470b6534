#pragma once
// A whole site in process: the daemon with a stepped clock, a scripted GX and an in-process MQTT
// link (FakeLink), a real SQLite file and a real YAML config in a temporary directory. The
// hostile-input and reload tests drive it; nothing else runs.
#include <filesystem>
#include <functional>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/loop/daemon.hpp"
#include "tests/support/fake_link.hpp"
#include "tests/support/scripted_device.hpp"

namespace test {

inline const char* kFakeSiteConfig = R"(site:
  name: hostile
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
  allow_settings: true
relays:
  primary_s21: {protocol: tasmota, topic: primary_s21}
  dump_s19_1: {protocol: shelly_gen1, topic: shelly1-dump, channel: 0}
  heat_room_fan: {protocol: tasmota, topic: heat_room_fan}
  heat_room_heater: {protocol: shelly_gen2, topic: heat-room-heater}
  main_room_fan: {protocol: tasmota, topic: main_room_fan}
  main_room_heater: {protocol: esphome, topic: main-room, object_id: heater}
sensors:
  heat_room_temp: {topic: tele/heat_room_temp/SENSOR, format: tasmota, key: DS18B20}
  main_room_temp: {topic: tele/main_room_temp/SENSOR, format: tasmota, key: DS18B20}
safety:
  charge_block_action: [dvcc]
# The stepped clock runs minutes in milliseconds: this process's real writes would read as a
# flood. The controller's health is tried with its own fake tree (host_health cases).
host:
  enabled: false
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
  zones:
    - name: Heat Room
    - name: Main Room
)";

struct FakeSite {
  std::filesystem::path dir;
  StepClock clock;
  ScriptedDevice* gx = nullptr;
  FakeBroker broker;
  bool fail_devices = false, fail_mqtt = false;  // the factories throw
  bool settle = true;  // cycles() waits for the recorder after each cycle
  std::string broker_uri;  // set before start(): the real link to this broker instead of the FakeBroker
  int devices_made = 0;
  std::vector<std::string> notified;  // sd_notify's messages
  std::unique_ptr<shackd::Daemon> daemon;

  // `extra`: more config after the site's (a miners: section); `make_miner`: the seam for it.
  // `base`: the site's config (kFakeSiteConfig, or a test's edit of it).
  explicit FakeSite(const std::string& extra = "",
                    std::function<std::unique_ptr<shackd::MinerLink>(const drivers::miners::MinerConfig&)> make_miner = {},
                    const std::string& base = kFakeSiteConfig, bool events_thread = false,
                    std::optional<bool> publish_thread = std::nullopt)
      : make_miner_(std::move(make_miner)), events_thread_(events_thread), publish_thread_(publish_thread) {
    char tmpl[] = "/tmp/shackd-hostile-XXXXXX";
    dir = mkdtemp(tmpl);
    write_config(base + extra);
    make_daemon();
  }
  // A new daemon on the same directory (its database, its config) and the same fakes: a restart.
  // The old one stops first, as systemd's restart would stop it.
  void restart() {
    daemon.reset();
    notified.clear();
    make_daemon();
  }
  void make_daemon() {
    shackd::Seams seams;
    seams.make_miner = make_miner_;
    seams.clock = &clock;
    seams.make_device = [this](drivers::DeviceConfig c) -> std::unique_ptr<shackd::PolledDevice> {
      if (fail_devices) throw std::runtime_error("the test's device factory failed");
      ++devices_made;
      auto d = std::make_unique<ScriptedDevice>(std::move(c), clock);
      gx = d.get();
      d->values = {{"system.battery_v", 54.0}, {"battery.battery_v", 54.0}, {"battery.min_cell_temp_c", 15.0},
                   {"system.pv_w", 3000}, {"system.load_w", 400}};
      return d;
    };
    seams.make_mqtt = [this](const drivers::mqtt::ClientConfig& c) -> std::unique_ptr<drivers::mqtt::Link> {
      if (fail_mqtt) throw std::runtime_error("the test's MQTT factory failed");
      if (!broker_uri.empty()) {  // a real broker (tests/support/broker.hpp) through the real link
        auto real = c;
        real.uri = broker_uri;
        return std::make_unique<drivers::mqtt::Client>(real);
      }
      return std::make_unique<FakeLink>(broker);
    };
    seams.notify = [this](const std::string& m) { notified.push_back(m); };
    // start() waits for the stored state: a loaded machine (TSan) must not start a test in the
    // safe state by chance. The slow-start tests set it short.
    seams.store_wait = store_wait;
    seams.events_thread = events_thread_;  // the outbox pumped by the cycle alone, unless asked
    seams.publish_thread = publish_thread_;  // the publisher sends before cycle() returns, unless asked
    daemon = std::make_unique<shackd::Daemon>(shackd::RunOptions{(dir / "shackd.yaml").string(), false, false},
                                              std::move(seams));
  }
  ~FakeSite() {
    daemon.reset();
    std::filesystem::remove_all(dir);
  }
  void write_config(std::string text) {
    text.replace(text.find("{DB}"), 4, (dir / "shackd.db").string());
    std::ofstream(dir / "shackd.yaml") << text;
  }
  void cycles(int n) {
    for (int i = 0; i < n; ++i) {
      clock.step(1000ms);
      daemon->cycle();
      // The recorder's thread has written what the cycle handed it (tests read the database):
      // unless a test holds the store back on purpose.
      // 30 s: a bound for a starved machine, never a timing claim (a cold CI run's native
      // tests, beside two compilers and qemu, once took longer than 10 s to settle a cycle).
      if (settle && !daemon->settle(std::chrono::seconds(30))) {
        throw std::runtime_error("the recorder did not settle within 30 s");
      }
    }
  }
  void set_battery(double v) {
    gx->values["system.battery_v"] = v;
    gx->values["battery.battery_v"] = v;
  }
  std::optional<std::chrono::milliseconds> store_wait = std::chrono::seconds(60);  // Seams::store_wait
  std::function<std::unique_ptr<shackd::MinerLink>(const drivers::miners::MinerConfig&)> make_miner_;
  bool events_thread_ = false;
  std::optional<bool> publish_thread_;
  // The STATUS line the last cycle gave systemd (sd_notify's STATUS=), as `systemctl status` shows it.
  // None sent is the test's failure, never an empty line that a "not in it" check would pass on.
  std::string status() const {
    for (auto m = notified.rbegin(); m != notified.rend(); ++m) {
      if (m->rfind("STATUS=", 0) == 0) return m->substr(7);
    }
    throw std::runtime_error("no STATUS= line was sent to systemd");
  }
  int pings() const {
    int n = 0;
    for (const auto& m : notified) n += m.find("WATCHDOG=1") != std::string::npos;
    return n;
  }
};

}  // namespace test
