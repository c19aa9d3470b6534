// Older GX firmware and sensors that are not fitted, against the simulator serving those maps.
// dbus-modbustcp refuses a whole read (0x02) that touches a register its version lacks, and
// answers 0 for a value that is invalid on D-Bus (docs/registers.md §1.3, §1.9).
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>

#include "drivers/modbus_device.hpp"
#include "drivers/readings.hpp"
#include "drivers/victron_gx.hpp"
#include "tests/support/sim_process.hpp"

using namespace std::chrono_literals;

namespace {

drivers::DeviceConfig gx(int port) {
  drivers::DeviceConfig c;
  c.name = "victron";
  c.transport = drivers::TcpTransport{"127.0.0.1", port};
  c.units = {{100, &drivers::victron::system_table(), "system"},
             {225, &drivers::victron::battery_table(), "battery"},
             {226, &drivers::victron::solarcharger_table(), "charger"}};
  c.timeout = 300ms;
  return c;
}

std::map<std::string, double> by_name(const drivers::PollResult& r) {
  std::map<std::string, double> out;
  for (const auto& x : r.readings) out[x.name] = x.value;
  return out;
}

int refusals(const drivers::PollResult& r) {
  return static_cast<int>(std::count_if(r.errors.begin(), r.errors.end(), [](const std::string& e) {
    return e.find("not served by this device (exception 0x02)") != std::string::npos;
  }));
}

}  // namespace

TEST_CASE("every GX firmware generation gives the decision inputs the newest gives") {
  const std::map<std::string, double> newest = [] {
    test::SimProcess sim({"--battery-v", "52.0", "--pv-w", "6000", "--house-w", "1200"});
    drivers::ModbusDevice d(gx(sim.victron_port()));
    return by_name(d.poll());
  }();
  REQUIRE(newest.count("system.battery_v"));
  // What each generation lacks, and so may miss: nothing a decision needs.
  const struct {
    const char* version;
    std::set<std::string> lacks;
    int refused;   // single registers dropped for the connection
    int requests;  // per poll once the plan has adapted
  } generations[] = {
      // system, battery 259-326 and 1297, charger
      {"1.0.101", {}, 0, 4},
      // The reserved holes lie between registers shackd reads: 808-826, 840-844, 850, 908-913.
      {"1.0.90", {}, 0, 7},
      {"1.0.80", {"system.grid_l1_w", "system.grid_l2_w", "system.grid_l3_w"}, 3, 6},
      // 775-776, 791 (tracking mode) and 792 refused
      {"1.0.70", {"system.grid_l1_w", "system.grid_l2_w", "system.grid_l3_w", "charger.pv_w"}, 4, 7},
  };
  for (const auto& g : generations) {
    CAPTURE(g.version);
    test::SimProcess sim({"--battery-v", "52.0", "--pv-w", "6000", "--house-w", "1200", "--gx-firmware", g.version});
    drivers::ModbusDevice d(gx(sim.victron_port()));
    const auto first = d.poll();
    const auto got = by_name(first);
    for (const auto& entry : newest) {  // no structured binding: clang 14 cannot capture one in CAPTURE
      const auto& name = entry.first;
      const auto& value = entry.second;
      CAPTURE(name);
      if (g.lacks.count(name)) {
        CHECK_FALSE(got.count(name));
      } else {
        REQUIRE(got.count(name));  // in the very first poll: the split reads run at once
        CHECK(got.at(name) == doctest::Approx(value).epsilon(0.01));
      }
    }
    CHECK(refusals(first) == g.refused);  // said once per register ...
    CHECK(d.health().refused.size() == static_cast<std::size_t>(g.refused));
    // ... and remembered: the next poll asks only for what this firmware serves.
    const auto second = d.poll();
    CHECK(second.errors.empty());
    CHECK(by_name(second).size() == got.size());
    CHECK(second.requests == g.requests);
  }
}

TEST_CASE("a battery monitor without a temperature sensor: 262 is not available, not 0 degrees") {
  test::SimProcess sim({"--no-battery-temp-sensor"});
  drivers::ModbusDevice d(gx(sim.victron_port()));
  const auto r = d.poll();
  const auto got = by_name(r);
  CHECK_FALSE(got.count("battery.battery_temp_c"));
  CHECK_FALSE(got.count("battery.min_cell_temp_c"));  // a shunt has no cells: 318 reads 0 too
  CHECK(std::count(r.unavailable.begin(), r.unavailable.end(), "battery.battery_temp_c") == 1);
  CHECK(r.invalid.empty());  // not an implausible reading: no alarm for a sensor never fitted
  CHECK(got.count("battery.battery_v"));

  // A value that was there and becomes "not available" is gone at once, not left to age.
  drivers::ReadingStore store;
  sim.ok("set battery_temp_sensor 1");
  store.update(d.poll());
  CHECK(store.get("battery.battery_temp_c"));
  sim.ok("set battery_temp_sensor 0");
  store.update(d.poll());
  CHECK_FALSE(store.get("battery.battery_temp_c"));

  // A BMS reports its coldest cell.
  sim.ok("set bms_min_cell_c -3.5");
  CHECK(by_name(d.poll()).at("battery.min_cell_temp_c") == doctest::Approx(-3.5));
}

TEST_CASE("a bank at rest reads 0 A, not \"not available\": 841's 0 is real beside a valid voltage") {
  test::SimProcess sim(std::vector<std::string>{});
  sim.ok("set pv_w 0");
  sim.ok("set house_w 0");
  drivers::ModbusDevice d(gx(sim.victron_port()));
  const auto r = d.poll();
  const auto got = by_name(r);
  REQUIRE(got.count("system.battery_v"));
  REQUIRE(got.count("system.battery_a"));
  CHECK(got.at("system.battery_a") == 0.0);
  CHECK(std::count(r.unavailable.begin(), r.unavailable.end(), "system.battery_a") == 0);
}

TEST_CASE("a unit that refuses every register keeps being asked, without splitting every poll") {
  test::SimProcess sim({"--gx-firmware", "1.0.101"});
  sim.ok("fault victron exception 2 100");
  drivers::ModbusDevice d(gx(sim.victron_port()));
  const auto first = d.poll();
  CHECK_FALSE(by_name(first).count("system.battery_v"));
  CHECK(by_name(first).count("battery.battery_v"));
  CHECK(std::find(d.health().refused.begin(), d.health().refused.end(), "system (every register)") !=
        d.health().refused.end());
  const auto second = d.poll();
  CHECK(second.requests == 4);  // the table's reads, one refused, not a split into 20
  sim.ok("fault victron clear");
  CHECK(by_name(d.poll()).count("system.battery_v"));  // a fix is picked up
}
