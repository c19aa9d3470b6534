#include "tests/devices/shunt.hpp"

#include <array>

namespace test::shunt {

namespace {

using drivers::Register;
using drivers::RegType;

// Its map: 32-bit values low word first, in mV and mA, and a temperature probe that reads
// 0x7FFF when none is fitted. `service` is what it measures (the simulator serves by service).
constexpr std::array kRegisters{
    Register{"battery_v", 0, RegType::u32_low_first, 0.001, 0, 20, 70, "shunt map 0-1: battery voltage, mV"},
    Register{"battery_a", 2, RegType::s32_low_first, 0.001, 0, -1000, 1000, "shunt map 2-3: current, mA, + = charging"},
    Register{"battery_temp_c", 4, RegType::s16, 0.1, 0, -40, 100, "shunt map 4: probe, 0.1 degC",
             std::optional<std::int64_t>{0x7FFF}},
};
const drivers::Table kTable{"battery", kRegisters, 0, 125, false};

}  // namespace

const drivers::Table& table() { return kTable; }

const drivers::DeviceKind& kind() {
  using drivers::Quantity;
  static const drivers::DeviceKind k{
      .key = "shunt",
      .label = "a battery shunt",
      .rtu = false,
      .timeout = std::chrono::milliseconds(500),
      .pacing = std::chrono::milliseconds(0),
      .units = {{"unit", "shunt", &kTable, drivers::UnitSlot::Count::one, 1, 1}},
      .settings = {},
      // Its 1 mV beats a GX battery monitor's 10 mV: ranked first.
      .offers = {{Quantity::battery_v, "shunt.battery_v", 5, "shunt", "the shunt's voltage"},
                 {Quantity::battery_a, "shunt.battery_a", 5},
                 {Quantity::battery_temp_c, "shunt.battery_temp_c", 25, "shunt", "the shunt's probe"}},
      .charge_limits = {},
      .limiting = {},
      .held = std::nullopt,
  };
  return k;
}

}  // namespace test::shunt
