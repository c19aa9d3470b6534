// A device's own states and alarms (a BMS's limits and alarms, a charger's fault state, a
// Sol-Ark's fault words), named from its table's status rules: first on readings set by hand,
// then read from the simulator, which models a BMS that stops charging on a cold cell.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "drivers/device_status.hpp"
#include "drivers/modbus_device.hpp"
#include "drivers/readings.hpp"
#include "drivers/solark.hpp"
#include "drivers/victron_gx.hpp"
#include "tests/support/sim_process.hpp"

using namespace std::chrono_literals;

namespace {

const drivers::SteadyTime kStatusT0{std::chrono::hours(1)};

std::vector<drivers::UnitConfig> gx_units() {
  return {{100, &drivers::victron::system_table(), "system"},
          {225, &drivers::victron::battery_table(), "battery"},
          {226, &drivers::victron::solarcharger_table(), "charger1"}};
}
std::vector<drivers::UnitConfig> solark_units() { return {{1, &drivers::solark::table(), "solark"}}; }

drivers::DeviceConfig device(const char* name, int port, std::vector<drivers::UnitConfig> units) {
  drivers::DeviceConfig c;
  c.name = name;
  c.transport = drivers::TcpTransport{"127.0.0.1", port};
  c.units = std::move(units);
  c.timeout = 500ms;
  return c;
}

std::map<std::string, const drivers::DeviceAlarm*> alarms_by_id(const drivers::DeviceStatus& s) {
  std::map<std::string, const drivers::DeviceAlarm*> out;
  for (const auto& a : s.alarms) out[a.id] = &a;
  return out;
}
std::map<std::string, std::string> states(const drivers::DeviceStatus& s) {
  std::map<std::string, std::string> out;
  for (const auto& st : s.states) out[st.id] = st.value;
  return out;
}

}  // namespace

TEST_CASE("fault words name F codes across all four words; known codes by name, others by number") {
  drivers::ReadingStore store;
  store.set("solark.fault_word_1", 0, kStatusT0);
  store.set("solark.fault_word_2", 1, kStatusT0);                 // bit 0 of word 2: F17
  store.set("solark.fault_word_3", 1 << 2, kStatusT0);            // bit 2 of word 3: F35
  store.set("solark.fault_word_4", (1 << 7) | (1 << 15), kStatusT0);  // F56, F64
  drivers::DeviceStatus s;
  drivers::add_device_status(s, "solark", solark_units(), store, kStatusT0, 30s);
  const auto a = alarms_by_id(s);
  REQUIRE(a.size() == 4);
  CHECK(a.at("solark.F17")->text.starts_with("F17 inverter fault (a code"));
  CHECK(a.at("solark.F35")->text == "F35 no AC grid");
  CHECK(a.at("solark.F35")->warning);  // expected off-grid without a generator
  CHECK(a.at("solark.F56")->text == "F56 DC busbar voltage low (battery low)");
  CHECK_FALSE(a.at("solark.F56")->warning);
  CHECK(a.at("solark.F64")->text == "F64 heat sink temperature high");
  CHECK(a.at("solark.F56")->device == "solark");
  CHECK(a.at("solark.F56")->reading == "solark.fault_word_4");
  CHECK(s.unknown.empty());
}

TEST_CASE("stale or missing readings make a device's status unknown, never 'no alarm'") {
  drivers::ReadingStore store;
  store.set("solark.fault_word_4", 1 << 7, kStatusT0);
  drivers::DeviceStatus s;
  drivers::add_device_status(s, "solark", solark_units(), store, kStatusT0 + 31s, 30s);
  CHECK(s.alarms.empty());
  CHECK(s.unknown.size() == 4);  // words 1-3 never read, word 4 stale
  CHECK(std::count(s.unknown.begin(), s.unknown.end(), "solark.fault_word_4") == 1);
}

TEST_CASE("alarm registers: 1 is a warning, 2 an alarm; states are named; unknown values say so") {
  drivers::ReadingStore store;
  store.set("battery.alarm_low_cell_voltage", 1, kStatusT0);
  store.set("battery.alarm_low_voltage", 2, kStatusT0);
  store.set("battery.alarm_high_voltage", 0, kStatusT0);
  store.set("system.battery_state", 2, kStatusT0);
  store.set("charger1.charge_state", 9, kStatusT0);  // not in attributes.csv's list
  store.set("charger1.tracking_mode", 1, kStatusT0);
  drivers::DeviceStatus s;
  drivers::add_device_status(s, "victron", gx_units(), store, kStatusT0, 30s);
  const auto a = alarms_by_id(s);
  REQUIRE(a.size() == 2);
  CHECK(a.at("battery.low_cell_voltage")->warning);
  CHECK_FALSE(a.at("battery.low_voltage")->warning);
  CHECK(a.at("battery.low_voltage")->text == "battery low voltage");
  const auto st = states(s);
  CHECK(st.at("system.battery_state") == "discharging");
  CHECK(st.at("charger1.charge_state") == "unknown (9)");
  CHECK(st.at("charger1.tracking_mode") == "limited");
}

TEST_CASE("a BMS on the GX: its limits shown, a cold cell stops charging and says so; a shunt shows none") {
  test::SimProcess sim({"--battery-v", "52.0", "--pv-w", "3000", "--house-w", "500"});
  const auto c = device("victron", sim.victron_port(), gx_units());
  drivers::ModbusDevice d(c);
  const auto read = [&] {
    drivers::ReadingStore store;
    const auto r = d.poll();
    REQUIRE(r.errors.empty());
    store.update(r);
    drivers::DeviceStatus s;
    drivers::add_device_status(s, "victron", c.units, store, store.get("system.battery_v")->as_of, 30s);
    return std::pair{r, s};
  };

  // A shunt: 305, 307 and 1297 read 0; the BMS's values are not available, not a 0 A limit.
  {
    const auto [r, s] = read();
    CHECK(std::count(r.unavailable.begin(), r.unavailable.end(), "battery.bms_charge_limit_a") == 1);
    CHECK(std::count(r.unavailable.begin(), r.unavailable.end(), "battery.allow_to_charge") == 1);
    CHECK(s.alarms.empty());
    const auto st = states(s);
    CHECK(st.at("system.battery_state") == "charging");
    CHECK(st.at("charger1.charge_state") == "bulk");
    CHECK(st.at("charger1.tracking_mode") == "MPPT");
    CHECK_FALSE(st.count("battery.bms_charge_limit_a"));
  }
  // A BMS, warm: its limit and permission shown, no alarm.
  sim.ok("set bms_min_cell_c 8");
  {
    const auto [r, s] = read();
    CHECK(s.alarms.empty());
    const auto st = states(s);
    CHECK(st.at("battery.bms_charge_limit_a") == "100 A");
    CHECK(st.at("battery.allow_to_charge") == "yes");
    CHECK(st.at("battery.min_cell_temp_c") == "8 °C");
  }
  // A cold cell: the BMS sets 0 A and disallows charging (warnings: it already stops the
  // chargers) and raises its low-charge-temperature alarm.
  sim.ok("set bms_min_cell_c -2");
  sim.ok("bms_alarm low_cell_voltage 1");
  sim.ok("charger_fault 1");
  {
    const auto [r, s] = read();
    const auto a = alarms_by_id(s);
    REQUIRE(a.count("battery.bms_no_charge_current"));
    CHECK(a.at("battery.bms_no_charge_current")->warning);
    REQUIRE(a.count("battery.bms_charge_not_allowed"));
    REQUIRE(a.count("battery.low_charge_temperature"));
    CHECK_FALSE(a.at("battery.low_charge_temperature")->warning);
    REQUIRE(a.count("battery.low_cell_voltage"));
    CHECK(a.at("battery.low_cell_voltage")->warning);
    REQUIRE(a.count("charger1.charger_fault"));
    CHECK(a.size() == 5);
    const auto st = states(s);
    CHECK(st.at("battery.bms_charge_limit_a") == "0 A");
    CHECK(st.at("battery.allow_to_charge") == "no");
    CHECK(st.at("charger1.charge_state") == "fault");
  }
}

TEST_CASE("the Sol-Ark's fault words from the simulator") {
  test::SimProcess sim;
  const auto c = device("solark", sim.solark_port(), solark_units());
  drivers::ModbusDevice d(c);
  sim.ok("solark_fault 56 on");
  sim.ok("solark_fault 20 on");
  drivers::ReadingStore store;
  store.update(d.poll());
  drivers::DeviceStatus s;
  drivers::add_device_status(s, "solark", c.units, store, store.get("solark.battery_v")->as_of, 30s);
  const auto a = alarms_by_id(s);
  CHECK(a.size() == 2);
  CHECK(a.count("solark.F20"));
  CHECK(a.count("solark.F56"));
  sim.ok("solark_fault 56 off");
  store.update(d.poll());
  s = {};
  drivers::add_device_status(s, "solark", c.units, store, store.get("solark.battery_v")->as_of, 30s);
  CHECK(alarms_by_id(s).size() == 1);
}
