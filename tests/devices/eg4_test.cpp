// The EG4/Luxpower kind (drivers/eg4.cpp): its readings from input registers and its charge
// current from a holding register at one unit id, polled from a simulated EG4 on loopback in the
// fewest requests Luxpower's blocks of 40 allow; its fault codes named as Luxpower names them;
// configured under devices.eg4; an EG4-only site decided on its voltage by the daemon, and its
// charge current held at 0 A through a cold block and put back after it.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "daemon/config/config.hpp"
#include "daemon/loop/daemon.hpp"
#include "drivers/device_status.hpp"
#include "drivers/eg4.hpp"
#include "drivers/modbus_device.hpp"
#include "sim/server.hpp"
#include "tests/support/device_site.hpp"
#include "tests/support/fake_link.hpp"
#include "tests/support/lookups.hpp"

using namespace std::chrono_literals;

namespace {

// The input registers 0-79 and the holding register 101 at unit 1, as the EG4 serves them.
std::vector<sim::UnitSpec> eg4_units() {
  return {{1, &drivers::eg4::input_table(), 0, 80}, {1, &drivers::eg4::holding_table(), 80, 40}};
}

using test::reading;

}  // namespace

TEST_CASE("an EG4 is polled in three requests: two reads of input registers inside their blocks of 40, one of its settings") {
  sim::SiteModel model;
  model.rest_v = 52.4;
  model.pv_w = 3000;
  std::mutex model_mutex;
  sim::DeviceServer server("eg4", "127.0.0.1", 0, eg4_units(), model, model_mutex);
  server.serve_writable(1, 101, 80, false);
  server.start();

  auto settings = drivers::defaults_of(drivers::eg4::kind());
  settings.transport = drivers::TcpTransport{"127.0.0.1", server.port()};
  settings.pacing = 0ms;
  drivers::ModbusDevice device(drivers::device_config(settings));
  const auto r = device.poll();
  CHECK_MESSAGE(r.errors.empty(), (r.errors.empty() ? "" : r.errors.front()));
  CHECK(r.requests == 3);  // inputs 0-24 and 60-67 (never across 40), holding 101
  double soc = 0, load = 0, pv1 = 0, battery_v = 0;
  {
    std::lock_guard lock(model_mutex);
    battery_v = *model.value("eg4", "battery_v");
    soc = *model.value("eg4", "soc_pct");
    load = *model.value("eg4", "eps_w");
    pv1 = *model.value("eg4", "pv1_w");
  }
  REQUIRE(reading(r, "eg4.battery_v"));
  CHECK(*reading(r, "eg4.battery_v") == doctest::Approx(battery_v).epsilon(0.002));  // 0.1 V steps
  CHECK(reading(r, "eg4.soc_pct") == soc);
  CHECK(reading(r, "eg4.soh_pct") == 98);  // the other byte of the same word
  CHECK(reading(r, "eg4.pv1_w") == doctest::Approx(pv1).epsilon(0.001));
  CHECK(reading(r, "eg4.eps_w") == doctest::Approx(load).epsilon(0.001));
  CHECK(reading(r, "eg4.state") == 0x80);
  CHECK(reading(r, "eg4_settings.charge_current_a") == 80);

  // The cold block's write: hold 101 to 0 A, function 6, read back.
  const auto w = device.swap_register(1, 101, 0);
  CHECK(w.error.empty());
  CHECK(w.previous == 80);
  CHECK(server.writable(1, 101) == 0);
  server.stop();
}

TEST_CASE("Luxpower fault codes are named E000-E031 across the two words, as its protocol document names them") {
  const auto t0 = drivers::SteadyTime{} + 1h;
  drivers::ReadingStore store;
  store.set("eg4.state", 0x01, t0);
  store.set("eg4.fault_code_low", 1 << 1, t0);   // E001
  store.set("eg4.fault_code_high", 1 << 5, t0);  // E021
  const std::vector<drivers::UnitConfig> units = {{1, &drivers::eg4::input_table(), "eg4"}};
  drivers::DeviceStatus s;
  drivers::add_device_status(s, "eg4", units, store, t0, 30s);
  std::map<std::string, std::string> alarms;
  for (const auto& a : s.alarms) alarms[a.id] = a.text;
  CHECK(alarms.size() == 2);
  CHECK(alarms["eg4.E001"] == "E001 model fault");
  CHECK(alarms["eg4.E021"] == "E021 PV overvoltage");
  REQUIRE(s.states.size() == 1);
  CHECK(s.states[0].value == "fault");
}

TEST_CASE("devices.eg4: its offers fill the readings, and its charge block needs the current to put back") {
  const std::string device = "devices:\n  eg4: {host: 127.0.0.1, port: 1502, unit: 1}\n";
  const auto ok = shackd::parse_config(device + test::kShackRelays, "eg4.yaml");
  REQUIRE_MESSAGE(ok.config, (ok.errors.empty() ? "" : ok.errors.front()));
  const auto& c = *ok.config;
  REQUIRE(c.devices.size() == 1);
  CHECK(c.devices[0].kind == &drivers::eg4::kind());
  CHECK(c.battery_v_readings == std::vector<std::string>{"eg4.battery_v"});
  CHECK(c.pv_readings == std::vector<std::string>{"eg4.pv1_w", "eg4.pv2_w", "eg4.pv3_w"});
  CHECK(c.load_readings == std::vector<std::string>{"eg4.eps_w"});
  CHECK(c.battery_temp_readings.empty());  // 67 is not offered: nothing says how "no sensor" reads

  const auto block = device + test::kShackRelays + "safety:\n  charge_block_action: eg4\n";
  const auto missing = shackd::parse_config(block, "eg4.yaml");
  REQUIRE_FALSE(missing.config);
  CHECK(missing.errors.front().find("devices.eg4.max_charge_a: required with eg4") != std::string::npos);

  std::string with = block;
  with.replace(with.find("unit: 1}"), 8, "unit: 1, max_charge_a: 100}");
  CHECK(shackd::parse_config(with, "eg4.yaml").config);
}

TEST_CASE("an EG4-only site: the daemon decides on the EG4's voltage and holds its charge current at 0 A while cold") {
  sim::SiteModel model;
  model.rest_v = 52.4;
  model.battery_temp_c = 20;
  std::mutex model_mutex;
  sim::DeviceServer eg4("eg4", "127.0.0.1", 0, eg4_units(), model, model_mutex);
  eg4.serve_writable(1, 101, 100, false);
  eg4.start();

  const test::TempDir tmp("eg4");
  const std::filesystem::path& dir = tmp.path;
  const auto config = dir / "shackd.yaml";
  std::ofstream(config) << test::config_head(dir)
                        << "devices:\n  eg4: {host: 127.0.0.1, port: " << eg4.port()
                        << ", unit: 1, timeout_ms: 300, pacing_ms: 0, max_charge_a: 100}\n"
                        << "readings:\n  battery_temp_c: [eg4.battery_temp_c]\n"
                        << "safety:\n  charge_block_action: eg4\n"
                        << test::kShackRelays
                        << test::kOneMinerProfiles;

  std::string state;
  test::FakeBroker broker;  // what the daemon publishes, through its whole MQTT side
  broker.on_publish = [&](const test::FakeBroker::Message& m) {
    if (m.topic == "shack/state") state = m.payload;
  };
  shackd::Seams seams;
  seams.make_mqtt = test::links_to(broker);
  {
    // Not a dry run: a dry run writes no charge limit either.
    shackd::Daemon daemon(shackd::RunOptions{config.string(), false, false}, std::move(seams));
    REQUIRE_FALSE(daemon.start());
    const auto cycle_until = [&](auto done) { return test::cycle_until(daemon, done); };
    // The record in force's snapshot, read again after each cycle (each cycle has a record of its own).
    const auto snap = [&]() -> const rules::Snapshot& { return daemon.loop().snapshot(); };
    CHECK(cycle_until([&] { return daemon.loop().decision().battery.measured_v.has_value(); }));
    REQUIRE_FALSE(snap().battery_v.empty());
    CHECK(snap().battery_v[0].name == "eg4");
    REQUIRE(daemon.loop().decision().battery.measured_v);
    CHECK(*daemon.loop().decision().battery.measured_v == doctest::Approx(52.35).epsilon(0.003));
    CHECK(state.find("\"voltage_source\":\"eg4\"") != std::string::npos);
    // Its battery current from its charge and discharge power over its voltage, + = charging.
    REQUIRE(snap().battery_a);
    double battery_a = 0;
    {
      std::lock_guard lock(model_mutex);
      battery_a = model.battery_a();
    }
    CHECK(battery_a < -5);  // the house's 500 W from the battery
    CHECK(snap().battery_a->value == doctest::Approx(battery_a).epsilon(0.01));
    CHECK(eg4.writable(1, 101) == 100);  // warm: untouched

    {
      std::lock_guard lock(model_mutex);
      model.battery_temp_c = -5;
    }
    CHECK_MESSAGE(cycle_until([&] { return eg4.writable(1, 101) == 0; }), state);
    {
      std::lock_guard lock(model_mutex);
      model.battery_temp_c = 15;
    }
    CHECK(cycle_until([&] { return eg4.writable(1, 101) == 100; }));
  }
  eg4.stop();
}
