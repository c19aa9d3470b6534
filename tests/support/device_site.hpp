#pragma once
// The site around a device kind's end-to-end test (tests/devices/): the Solar Shack's relays and
// zone sensors as config text, a profiles: section with one miner, and the daemon cycled on the
// real clock until a condition holds, bounded.
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "daemon/loop/daemon.hpp"

namespace test {

inline constexpr const char* kShackRelays = R"(relays:
  primary_s21: {protocol: tasmota, topic: primary_s21}
  dump_s19_1: {protocol: tasmota, topic: dump_s19_1}
  heat_room_fan: {protocol: tasmota, topic: heat_room_fan}
  heat_room_heater: {protocol: tasmota, topic: heat_room_heater}
  main_room_fan: {protocol: tasmota, topic: main_room_fan}
  main_room_heater: {protocol: tasmota, topic: main_room_heater}
sensors:
  heat_room_temp: {topic: tele/heat_room_temp/SENSOR, format: tasmota, key: DS18B20}
  main_room_temp: {topic: tele/main_room_temp/SENSOR, format: tasmota, key: DS18B20}
)";

// A test's own directory for its config and database, removed with it.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name) {
    std::string t = "/tmp/shackd-" + name + "-XXXXXX";
    path = mkdtemp(t.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// The head of a device test's config: its database in `dir`, 200 ms cycles, no broker (port 1).
inline std::string config_head(const std::filesystem::path& dir) {
  return "database:\n  path: " + (dir / "shackd.db").string() +
         "\nloop:\n  interval_ms: 200\nmqtt:\n  uri: tcp://127.0.0.1:1\n  prefix: shack\n";
}

// The primary alone, inputs stale after 2 s (so a device that goes away is noticed in a test).
inline constexpr const char* kOneMinerProfiles =
    "profiles:\n  site:\n    electrical_stale_after_s: 2\n  miners:\n    - name: \"Primary S21+\"\n"
    "  zones:\n    - name: Heat Room\n    - name: Main Room\n";

// Cycles `daemon` every 200 ms until `done()` holds, at most 50 cycles (10 s); returns done().
template <class Done>
bool cycle_until(shackd::Daemon& daemon, Done done) {
  for (int i = 0; i < 50 && !done(); ++i) {
    daemon.cycle();
    daemon.settle();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return done();
}

}  // namespace test
