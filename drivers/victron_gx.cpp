#include "drivers/victron_gx.hpp"

#include <array>

namespace drivers::victron {

namespace {

// A 48 V bank. dbus-modbustcp answers 0 for a value that is invalid on D-Bus (its mapping returns
// 0 then; registers.md §1.3): readings where 0 can mean that carry kInvalidIsZero.
constexpr double kVmin = 20, kVmax = 70;
constexpr double kWmax = 100000;

// com.victronenergy.system, unit 100. 808-912 lie in the contiguous block 800-919 (§1.9): one read.
constexpr std::array kSystem{
    Register{"pv_ac_out_l1_w", 808, RegType::u16, 1, 0, 0, kWmax, "com.victronenergy.system:/Ac/PvOnOutput/L1/Power"},
    Register{"pv_ac_out_l2_w", 809, RegType::u16, 1, 0, 0, kWmax, "com.victronenergy.system:/Ac/PvOnOutput/L2/Power"},
    Register{"pv_ac_out_l3_w", 810, RegType::u16, 1, 0, 0, kWmax, "com.victronenergy.system:/Ac/PvOnOutput/L3/Power"},
    Register{"pv_ac_grid_l1_w", 811, RegType::u16, 1, 0, 0, kWmax, "com.victronenergy.system:/Ac/PvOnGrid/L1/Power"},
    Register{"pv_ac_grid_l2_w", 812, RegType::u16, 1, 0, 0, kWmax, "com.victronenergy.system:/Ac/PvOnGrid/L2/Power"},
    Register{"pv_ac_grid_l3_w", 813, RegType::u16, 1, 0, 0, kWmax, "com.victronenergy.system:/Ac/PvOnGrid/L3/Power"},
    Register{"ac_consumption_l1_w", 817, RegType::u16, 1, 0, 0, kWmax, "com.victronenergy.system:/Ac/Consumption/L1/Power"},
    Register{"ac_consumption_l2_w", 818, RegType::u16, 1, 0, 0, kWmax, "com.victronenergy.system:/Ac/Consumption/L2/Power"},
    Register{"ac_consumption_l3_w", 819, RegType::u16, 1, 0, 0, kWmax, "com.victronenergy.system:/Ac/Consumption/L3/Power"},
    Register{"active_input", 826, RegType::s16, 1, 0, 0, 240, "com.victronenergy.system:/Ac/ActiveIn/Source"},
    Register{"battery_v", 840, RegType::u16, 0.1, 0, kVmin, kVmax, "com.victronenergy.system:/Dc/Battery/Voltage", kInvalidIsZero},
    // + = charging (register list remark).
    Register{"battery_a", 841, RegType::s16, 0.1, 0, -2000, 2000, "com.victronenergy.system:/Dc/Battery/Current", kInvalidIsZero},
    Register{"battery_w", 842, RegType::s16, 1, 0, -32768, 32767, "com.victronenergy.system:/Dc/Battery/Power"},
    Register{"soc_pct", 843, RegType::u16, 1, 0, 0, 100, "com.victronenergy.system:/Dc/Battery/Soc"},
    Register{"battery_state", 844, RegType::u16, 1, 0, 0, 2, "com.victronenergy.system:/Dc/Battery/State"},
    Register{"pv_dc_w", 850, RegType::u16, 1, 0, 0, kWmax, "com.victronenergy.system:/Dc/Pv/Power"},
    // The 16-bit grid registers 820-822 overflow above 32 kW: read the 32-bit ones.
    Register{"grid_l1_w", 908, RegType::s32_high_first, 1, 0, -kWmax, kWmax, "com.victronenergy.system:/Ac/Grid/L1/Power"},
    Register{"grid_l2_w", 910, RegType::s32_high_first, 1, 0, -kWmax, kWmax, "com.victronenergy.system:/Ac/Grid/L2/Power"},
    Register{"grid_l3_w", 912, RegType::s32_high_first, 1, 0, -kWmax, kWmax, "com.victronenergy.system:/Ac/Grid/L3/Power"},
};

// com.victronenergy.battery: the shunt's 0.01 V is the preferred voltage source. Block 256-331.
constexpr std::array kBattery{
    Register{"battery_v", 259, RegType::u16, 0.01, 0, kVmin, kVmax, "com.victronenergy.battery:/Dc/0/Voltage", kInvalidIsZero},
    Register{"battery_a", 261, RegType::s16, 0.1, 0, -2000, 2000, "com.victronenergy.battery:/Dc/0/Current"},
    Register{"battery_temp_c", 262, RegType::s16, 0.1, 0, -40, 100, "com.victronenergy.battery:/Dc/0/Temperature", kInvalidIsZero},
    Register{"soc_pct", 266, RegType::u16, 0.1, 0, 0, 100, "com.victronenergy.battery:/Soc"},
    // A BMS on CAN reports its coldest cell: the best cold-charge input there is. A shunt has no
    // cells: 0 (invalid) there.
    Register{"min_cell_temp_c", 318, RegType::s16, 0.1, 0, -40, 100, "com.victronenergy.battery:/System/MinCellTemperature", kInvalidIsZero},
};

// com.victronenergy.solarcharger. Block 771-793.
constexpr std::array kSolarcharger{
    Register{"charge_state", 775, RegType::u16, 1, 0, 0, 252, "com.victronenergy.solarcharger:/State"},
    Register{"pv_v", 776, RegType::u16, 0.01, 0, 0, 250, "com.victronenergy.solarcharger:/Pv/V"},
    Register{"pv_w", 792, RegType::u32_high_first, 1, 0, 0, kWmax, "com.victronenergy.solarcharger:/Yield/Power"},
};

// com.victronenergy.temperature. Block 3300-3327.
constexpr std::array kTemperature{
    Register{"temp_c", 3304, RegType::s16, 0.01, 0, -40, 100, "com.victronenergy.temperature:/Temperature"},
    Register{"status", 3305, RegType::u16, 1, 0, 0, 4, "com.victronenergy.temperature:/Status"},
};

const Table kSystemTable{"system", kSystem, 125, 125, false};
const Table kBatteryTable{"battery", kBattery, 125, 125, false};
const Table kSolarchargerTable{"solarcharger", kSolarcharger, 125, 125, false};
const Table kTemperatureTable{"temperature", kTemperature, 125, 125, false};

}  // namespace

const Table& system_table() { return kSystemTable; }
const Table& battery_table() { return kBatteryTable; }
const Table& solarcharger_table() { return kSolarchargerTable; }
const Table& temperature_table() { return kTemperatureTable; }

}  // namespace drivers::victron
