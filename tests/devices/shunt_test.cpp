// A new kind of voltage source, end to end, with nothing under rules/ or daemon/ changed: the
// test-only shunt (tests/devices/shunt.cpp) joins the kinds in one line, decodes its fixture,
// is configured under devices.shunt, polled over Modbus TCP from a simulated device, ranked
// first by its offer, and named as the source that decided; when it goes offline the next
// source in rank decides.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "daemon/config/config.hpp"
#include "daemon/loop/daemon.hpp"
#include "sim/server.hpp"
#include "tests/support/device_site.hpp"
#include "tests/support/fake_link.hpp"
#include "drivers/solark.hpp"
#include "drivers/victron_gx.hpp"
#include "tests/devices/shunt.hpp"
#include "tests/support/regs_fixture.hpp"

using namespace std::chrono_literals;

namespace {

// The registry with the new kind: the built-in kinds and one line more.
const drivers::DeviceKind* const kKinds[] = {&drivers::victron::kind(), &drivers::solark::kind(), &test::shunt::kind()};

std::string devices(int gx_port, int shunt_port) {
  return "devices:\n  victron: {host: 127.0.0.1, port: " + std::to_string(gx_port) +
         ", battery_unit: 225, timeout_ms: 300}\n  shunt: {host: 127.0.0.1, port: " + std::to_string(shunt_port) +
         ", unit: 7, timeout_ms: 300}\n";
}

}  // namespace

TEST_CASE("the shunt's table decodes its recorded fixture, every register of it") {
  const auto covered = test::check_regs_fixture(SHACKD_FIXTURES "/shunt.regs", [](const std::string& service) {
    return service == test::shunt::table().service ? &test::shunt::table() : nullptr;
  });
  for (const auto& r : test::shunt::table().registers) {
    CHECK_MESSAGE(covered.count({"battery", std::string(r.field)}), "no fixture for " << r.field);
  }
  // Its quirk is data: 0x7FFF on the probe is "not fitted", a missing reading, not 3276.7 degC.
  const std::uint16_t none[] = {0x7FFF};
  CHECK(drivers::is_not_available(test::shunt::table().registers[2], none));
}

TEST_CASE("devices.shunt is read by what its kind declares, and its offers rank it first") {
  const std::string text = devices(1502, 1503) + test::kShackRelays;
  const auto with = shackd::parse_config(text, "shunt.yaml", kKinds);
  REQUIRE_MESSAGE(with.config, (with.errors.empty() ? "" : with.errors.front()));
  const auto& c = *with.config;
  REQUIRE(c.devices.size() == 2);
  CHECK(c.devices[1].kind == &test::shunt::kind());
  CHECK(c.devices[1].unit_ids == std::vector<std::vector<int>>{{7}});
  CHECK(c.battery_v_readings == std::vector<std::string>{"shunt.battery_v", "battery.battery_v", "system.battery_v"});
  CHECK(c.battery_temp_readings ==
        std::vector<std::string>{"battery.min_cell_temp_c", "battery.battery_temp_c", "shunt.battery_temp_c"});

  // Without its registry line the section is not a kind shackd knows, and it says which it knows.
  const auto without = shackd::parse_config(text, "shunt.yaml");
  REQUIRE_FALSE(without.config);
  CHECK(without.errors.front().find("devices.shunt") != std::string::npos);

  // Its section takes what its kind declares and nothing else: no serial line, a unit from 1.
  std::string bad_devices = devices(1502, 1503);
  bad_devices.replace(bad_devices.find("unit: 7"), 7, "unit: 0, baud: 9600");
  const auto bad = shackd::parse_config(bad_devices + test::kShackRelays, "shunt.yaml", kKinds);
  REQUIRE_FALSE(bad.config);
  std::string all;
  for (const auto& e : bad.errors) all += e + "\n";
  CHECK(all.find("devices.shunt.unit") != std::string::npos);
  CHECK(all.find("0 is out of range: must be 1 to 247") != std::string::npos);
  CHECK(all.find("devices.shunt") != std::string::npos);
  CHECK(all.find("baud") != std::string::npos);
}

TEST_CASE("the daemon polls the shunt, decides on its voltage, and falls back to the GX when it goes offline") {
  sim::SiteModel model;
  model.rest_v = 52.4;
  std::mutex model_mutex;
  sim::DeviceServer gx("victron", "127.0.0.1", 0,
                       {{100, &drivers::victron::system_table(), 800, 120}, {225, &drivers::victron::battery_table(), 256, 1329 - 256, {{332, 1281}}}},
                       model, model_mutex);
  sim::DeviceServer shunt("shunt", "127.0.0.1", 0, {{7, &test::shunt::table(), 0, 6}}, model, model_mutex);
  gx.start();
  shunt.start();

  const test::TempDir tmp("shunt");
  const std::filesystem::path& dir = tmp.path;
  const auto config = dir / "shackd.yaml";
  std::ofstream(config) << test::config_head(dir)
                        << devices(gx.port(), shunt.port()) << test::kShackRelays
                        << test::kOneMinerProfiles;

  std::string state;  // the last shack/state payload
  shackd::Seams seams;
  seams.kinds = kKinds;
  test::FakeBroker broker;  // what the daemon publishes, through its whole MQTT side
  broker.on_publish = [&](const test::FakeBroker::Message& m) {
    if (m.topic == "shack/state") state = m.payload;
  };
  seams.make_mqtt = test::links_to(broker);
  {
    shackd::Daemon daemon(shackd::RunOptions{config.string(), true, false}, std::move(seams));
    REQUIRE_FALSE(daemon.start());
    const auto cycle_until = [&](auto done) { return test::cycle_until(daemon, done); };
    // The record in force's snapshot, read again after each cycle (each cycle has a record of its own).
    const auto snap = [&]() -> const rules::Snapshot& { return daemon.loop().snapshot(); };
    CHECK(cycle_until([&] { return daemon.loop().decision().battery.source == 0; }));
    REQUIRE_FALSE(snap().battery_v.empty());
    CHECK(snap().battery_v[0].name == "shunt");
    CHECK(snap().battery_v[0].label == "the shunt's voltage");
    REQUIRE(daemon.loop().decision().battery.measured_v);
    CHECK(*daemon.loop().decision().battery.measured_v == doctest::Approx(52.4).epsilon(0.01));
    CHECK(state.find("\"voltage_source\":\"shunt\"") != std::string::npos);
    CHECK(shunt.requests() > 0);

    // Offline: its voltage ages out and the GX's battery monitor decides, by name.
    shunt.set_faults({.offline = true});
    CHECK(cycle_until([&] { return daemon.loop().decision().battery.source == 1; }));
    CHECK(snap().battery_v[1].name == "battery_monitor");
    CHECK(state.find("\"voltage_source\":\"battery_monitor\"") != std::string::npos);
  }
  shunt.stop();
  gx.stop();
}
