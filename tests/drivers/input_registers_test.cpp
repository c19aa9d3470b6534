// Tables of input registers (function 4) and byte fields, as Luxpower/EG4 inverters serve their
// readings (celsworth/lxp-bridge: battery voltage in input register 4 at 0.1 V, SOC in the low
// byte and SOH in the high byte of input register 5), polled from an in-process simulated device
// on loopback. The simulator serves an input table on function 4 only, so a read with function 3
// fails: the first case passing means the driver asked with 4.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <mutex>

#include "drivers/modbus_device.hpp"
#include "drivers/registers.hpp"
#include "sim/model.hpp"
#include "sim/server.hpp"

using namespace std::chrono_literals;
using drivers::Register;
using drivers::RegType;

namespace {

// The simulator's model answers for the service "solark": its battery voltage (less 0.05 V of
// cable), SOC and battery temperature stand in for the Lux readings. A test table, not a kind.
const Register kInputRegs[] = {
    Register{"battery_v", 4, RegType::u16, 0.1, 0, 20, 70, "test: Lux input 4, 0.1 V"},
    Register{"soc_pct", 5, RegType::u8_low, 1, 0, 0, 100, "test: Lux input 5, low byte"},
    Register{"battery_temp_c", 5, RegType::u8_high, 1, 0, 0, 100, "test: input 5, high byte (SOH on a Lux)"},
};
drivers::Table input_table(drivers::RegisterSpace space) {
  drivers::Table t{"solark", kInputRegs};
  t.space = space;
  return t;
}

drivers::DeviceConfig config_for(int port, const drivers::Table& t) {
  drivers::DeviceConfig c;
  c.name = "lux";
  c.transport = drivers::TcpTransport{"127.0.0.1", port};
  c.units = {{1, &t, "inverter"}};
  c.timeout = 500ms;
  return c;
}

double reading(const drivers::PollResult& r, const std::string& name) {
  for (const auto& x : r.readings) {
    if (x.name == name) return x.value;
  }
  FAIL("no reading " << name);
  return 0;
}

}  // namespace

TEST_CASE("byte fields: each reads its own byte, and two encode into one word") {
  const std::array<std::uint16_t, 1> word{0x6432};  // SOH 100 (0x64) high, SOC 50 (0x32) low
  CHECK(drivers::raw_value(RegType::u8_low, word) == 50);
  CHECK(drivers::raw_value(RegType::u8_high, word) == 100);
  CHECK(drivers::word_count(RegType::u8_high) == 1);
  CHECK_FALSE(drivers::is_signed(RegType::u8_low));
  const auto low = drivers::encode(kInputRegs[1], 50), high = drivers::encode(kInputRegs[2], 100);
  REQUIRE(low.size() == 1);
  REQUIRE(high.size() == 1);
  CHECK((low[0] | high[0]) == 0x6432);
  CHECK(drivers::encode(kInputRegs[1], 300)[0] == 0xFF);  // clamped to the byte
}

TEST_CASE("a read never crosses the table's alignment: Luxpower's blocks of 40") {
  const Register regs[] = {
      Register{"a", 38, RegType::u16, 1, 0, 0, 1, "test"},
      Register{"b", 39, RegType::u16, 1, 0, 0, 1, "test"},
      Register{"c", 40, RegType::u16, 1, 0, 0, 1, "test"},
      Register{"d", 79, RegType::u32_low_first, 1, 0, 0, 1, "test"},
  };
  const auto free = drivers::plan_blocks(regs, 0, 125);
  REQUIRE(free.size() == 2);  // 38-40 and 79-80: unaligned, the first three merge
  const auto aligned = drivers::plan_blocks(regs, 0, 125, 40);
  REQUIRE(aligned.size() == 3);
  CHECK(aligned[0].start == 38);
  CHECK(aligned[0].count == 2);
  CHECK(aligned[1].start == 40);
  CHECK(aligned[1].count == 1);
  // A register that itself straddles a boundary (79-80) is read whole: it cannot be split.
  CHECK(aligned[2].start == 79);
  CHECK(aligned[2].count == 2);
}

TEST_CASE("an input-register table is read with function 4 from a simulated device; the same table read with 3 is refused") {
  sim::SiteModel model;
  model.rest_v = 52.4;
  std::mutex model_mutex;
  const drivers::Table input = input_table(drivers::RegisterSpace::input);
  sim::DeviceServer server("lux", "127.0.0.1", 0, {{1, &input, 0, 40}}, model, model_mutex);
  server.start();

  drivers::ModbusDevice device(config_for(server.port(), input));
  const auto r = device.poll();
  CHECK(r.errors.empty());
  CHECK(r.requests == 1);
  CHECK(reading(r, "inverter.battery_v") == doctest::Approx(52.4 - 0.05).epsilon(0.01));
  double soc = 0, temp = 0;
  {
    std::lock_guard lock(model_mutex);
    soc = *model.value("solark", "soc_pct");
    temp = *model.value("solark", "battery_temp_c");
  }
  CHECK(reading(r, "inverter.soc_pct") == doctest::Approx(soc));
  CHECK(reading(r, "inverter.battery_temp_c") == doctest::Approx(std::round(temp)));

  // The control: the same registers as a holding table, against the same server.
  const drivers::Table holding = input_table(drivers::RegisterSpace::holding);
  drivers::ModbusDevice wrong(config_for(server.port(), holding));
  const auto w = wrong.poll();
  CHECK(w.readings.empty());
  REQUIRE_FALSE(w.errors.empty());
  CHECK(w.errors.front().find("illegal function") != std::string::npos);
  server.stop();
}
