#include "drivers/victron_gx.hpp"

#include <array>

namespace drivers::victron {

namespace {

// A 48 V bank. dbus-modbustcp answers 0 for a value that is invalid on D-Bus (its mapping returns
// 0 then; docs/registers.md §1.3): readings where 0 can mean that carry kInvalidIsZero.
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
    // The generator (issue 59; docs/registers.md §1.4): its output per phase while it feeds the
    // inverter's AC input (attributes.csv 823-825: int16, W, scale 1), and what the active input
    // is (826: 0 not available, 1 grid, 2 generator, 3 shore, 240 not connected). 0 in 826 is
    // "not available": missing, so that whether a generator runs is not known, never "no".
    Register{"genset_l1_w", 823, RegType::s16, 1, 0, -kWmax, kWmax, "com.victronenergy.system:/Ac/Genset/L1/Power"},
    Register{"genset_l2_w", 824, RegType::s16, 1, 0, -kWmax, kWmax, "com.victronenergy.system:/Ac/Genset/L2/Power"},
    Register{"genset_l3_w", 825, RegType::s16, 1, 0, -kWmax, kWmax, "com.victronenergy.system:/Ac/Genset/L3/Power"},
    Register{"active_input", 826, RegType::s16, 1, 0, 0, 240, "com.victronenergy.system:/Ac/ActiveIn/Source", kInvalidIsZero},
    Register{"battery_v", 840, RegType::u16, 0.1, 0, kVmin, kVmax, "com.victronenergy.system:/Dc/Battery/Voltage", kInvalidIsZero},
    // + = charging (register list remark). 0 A is a bank at rest: real whenever the voltage
    // beside it is (an invalid battery service reads 0 in both).
    Register{"battery_a", 841, RegType::s16, 0.1, 0, -2000, 2000, "com.victronenergy.system:/Dc/Battery/Current", {}, "battery_v"},
    Register{"battery_w", 842, RegType::s16, 1, 0, -32768, 32767, "com.victronenergy.system:/Dc/Battery/Power"},
    Register{"soc_pct", 843, RegType::u16, 1, 0, 0, 100, "com.victronenergy.system:/Dc/Battery/Soc"},
    Register{"battery_state", 844, RegType::u16, 1, 0, 0, 2, "com.victronenergy.system:/Dc/Battery/State"},
    Register{"pv_dc_w", 850, RegType::u16, 1, 0, 0, kWmax, "com.victronenergy.system:/Dc/Pv/Power"},
    // The 16-bit grid registers 820-822 overflow above 32 kW: read the 32-bit ones.
    Register{"grid_l1_w", 908, RegType::s32_high_first, 1, 0, -kWmax, kWmax, "com.victronenergy.system:/Ac/Grid/L1/Power"},
    Register{"grid_l2_w", 910, RegType::s32_high_first, 1, 0, -kWmax, kWmax, "com.victronenergy.system:/Ac/Grid/L2/Power"},
    Register{"grid_l3_w", 912, RegType::s32_high_first, 1, 0, -kWmax, kWmax, "com.victronenergy.system:/Ac/Grid/L3/Power"},
};

// com.victronenergy.battery: the shunt's 0.01 V is the preferred voltage source. Blocks 259-326
// and 1297 (a BMS's allow-to-charge).
constexpr std::array kBattery{
    Register{"battery_v", 259, RegType::u16, 0.01, 0, kVmin, kVmax, "com.victronenergy.battery:/Dc/0/Voltage", kInvalidIsZero},
    Register{"battery_a", 261, RegType::s16, 0.1, 0, -2000, 2000, "com.victronenergy.battery:/Dc/0/Current"},
    // A 0 here is "not available", never 0.0 °C: a sensor that drops out reads 0, and taking that
    // for a real 0.0 °C would hide a bank that goes on cooling from the cold block. The next
    // source decides at exactly 0.0 °C.
    Register{"battery_temp_c", 262, RegType::s16, 0.1, 0, -40, 100, "com.victronenergy.battery:/Dc/0/Temperature", kInvalidIsZero},
    Register{"soc_pct", 266, RegType::u16, 0.1, 0, 0, 100, "com.victronenergy.battery:/Soc"},
    // A BMS on CAN reports its coldest cell: the best cold-charge input there is. A shunt has no
    // cells: 0 (invalid) there.
    Register{"min_cell_temp_c", 318, RegType::s16, 0.1, 0, -40, 100, "com.victronenergy.battery:/System/MinCellTemperature", kInvalidIsZero},
    Register{"max_cell_temp_c", 319, RegType::s16, 0.1, 0, -40, 100, "com.victronenergy.battery:/System/MaxCellTemperature", kInvalidIsZero},
    // A BMS's DVCC limits (CVL, CCL). CVL is never 0 on a BMS, so it tells a BMS's "charge
    // current limit 0 A" from a battery monitor's "no such value" (both read 0).
    Register{"bms_charge_v", 305, RegType::u16, 0.1, 0, kVmin, kVmax, "com.victronenergy.battery:/Info/MaxChargeVoltage", kInvalidIsZero},
    Register{"bms_charge_limit_a", 307, RegType::u16, 0.1, 0, 0, 6553.5, "com.victronenergy.battery:/Info/MaxChargeCurrent", {}, "bms_charge_v"},
    Register{"allow_to_charge", 1297, RegType::u16, 1, 0, 0, 1, "com.victronenergy.battery:/Io/AllowToCharge", {}, "bms_charge_v"},
    // Alarms: 0 no alarm, 1 warning (some), 2 alarm. Invalid reads 0, which is "no alarm" too.
    Register{"alarm_low_voltage", 268, RegType::u16, 1, 0, 0, 2, "com.victronenergy.battery:/Alarms/LowVoltage"},
    Register{"alarm_high_voltage", 269, RegType::u16, 1, 0, 0, 2, "com.victronenergy.battery:/Alarms/HighVoltage"},
    Register{"alarm_low_soc", 272, RegType::u16, 1, 0, 0, 2, "com.victronenergy.battery:/Alarms/LowSoc"},
    Register{"alarm_low_temperature", 273, RegType::u16, 1, 0, 0, 2, "com.victronenergy.battery:/Alarms/LowTemperature"},
    Register{"alarm_high_temperature", 274, RegType::u16, 1, 0, 0, 2, "com.victronenergy.battery:/Alarms/HighTemperature"},
    Register{"alarm_internal_failure", 323, RegType::u16, 1, 0, 0, 2, "com.victronenergy.battery:/Alarms/InternalFailure"},
    Register{"alarm_high_charge_temperature", 324, RegType::u16, 1, 0, 0, 2, "com.victronenergy.battery:/Alarms/HighChargeTemperature"},
    Register{"alarm_low_charge_temperature", 325, RegType::u16, 1, 0, 0, 2, "com.victronenergy.battery:/Alarms/LowChargeTemperature"},
    Register{"alarm_low_cell_voltage", 326, RegType::u16, 1, 0, 0, 2, "com.victronenergy.battery:/Alarms/LowCellVoltage"},
};

constexpr std::array kYesNo{ValueName{0, "no"}, ValueName{1, "yes"}};
constexpr std::array kBatteryStatus{
    StatusRule{.field = "alarm_low_voltage", .code = "low_voltage", .text = "battery low voltage", .trigger = Trigger::level},
    StatusRule{.field = "alarm_high_voltage", .code = "high_voltage", .text = "battery high voltage", .trigger = Trigger::level},
    StatusRule{.field = "alarm_low_soc", .code = "low_soc", .text = "battery low state of charge", .trigger = Trigger::level},
    StatusRule{.field = "alarm_low_temperature", .code = "low_temperature", .text = "battery low temperature",
               .trigger = Trigger::level},
    StatusRule{.field = "alarm_high_temperature", .code = "high_temperature", .text = "battery high temperature",
               .trigger = Trigger::level},
    StatusRule{.field = "alarm_internal_failure", .code = "internal_failure", .text = "BMS internal failure",
               .trigger = Trigger::level},
    StatusRule{.field = "alarm_high_charge_temperature", .code = "high_charge_temperature",
               .text = "battery too hot to charge", .trigger = Trigger::level},
    StatusRule{.field = "alarm_low_charge_temperature", .code = "low_charge_temperature",
               .text = "battery too cold to charge", .trigger = Trigger::level},
    StatusRule{.field = "alarm_low_cell_voltage", .code = "low_cell_voltage", .text = "a cell's voltage is low",
               .trigger = Trigger::level},
    // The BMS already stops the chargers through DVCC: shown, and a warning, not shackd's alarm.
    StatusRule{.field = "bms_charge_limit_a", .code = "bms_no_charge_current",
               .text = "the BMS allows no charge current (limit 0 A)", .trigger = Trigger::equals, .value = 0,
               .warning = true, .unit = "A"},
    StatusRule{.field = "allow_to_charge", .code = "bms_charge_not_allowed", .text = "the BMS does not allow charging",
               .trigger = Trigger::equals, .value = 0, .names = kYesNo, .warning = true},
    StatusRule{.field = "bms_charge_v", .code = "bms_charge_v", .unit = "V"},
    StatusRule{.field = "min_cell_temp_c", .code = "min_cell_temp_c", .unit = "°C"},
    StatusRule{.field = "max_cell_temp_c", .code = "max_cell_temp_c", .unit = "°C"},
};

// com.victronenergy.solarcharger. Block 771-793.
constexpr std::array kSolarcharger{
    Register{"charge_state", 775, RegType::u16, 1, 0, 0, 252, "com.victronenergy.solarcharger:/State"},
    Register{"pv_v", 776, RegType::u16, 0.01, 0, 0, 250, "com.victronenergy.solarcharger:/Pv/V"},
    Register{"tracking_mode", 791, RegType::u16, 1, 0, 0, 255, "com.victronenergy.solarcharger:/MppOperationMode"},
    Register{"pv_w", 792, RegType::u32_high_first, 1, 0, 0, kWmax, "com.victronenergy.solarcharger:/Yield/Power"},
};

// attributes.csv's names; 245 (wake-up) and 252 as docs/registers.md §1.6 gives them.
constexpr std::array kChargeStates{
    ValueName{0, "off"},        ValueName{2, "fault"},     ValueName{3, "bulk"},
    ValueName{4, "absorption"}, ValueName{5, "float"},     ValueName{6, "storage"},
    ValueName{7, "equalize"},   ValueName{11, "other (Hub-1)"}, ValueName{245, "wake-up"},
    ValueName{252, "external control"}};
// "Voltage/current limited": the charger holds PV back (a full battery, a DVCC or BMS limit).
constexpr std::array kTrackingModes{ValueName{0, "off"}, ValueName{1, "limited"}, ValueName{2, "MPPT"},
                                    ValueName{255, "not available"}};
constexpr std::array kSolarchargerStatus{
    StatusRule{.field = "charge_state", .code = "charger_fault", .text = "the solar charger reports a fault",
               .trigger = Trigger::equals, .value = 2, .names = kChargeStates},
    StatusRule{.field = "tracking_mode", .code = "tracking_mode", .names = kTrackingModes},
};

constexpr std::array kBatteryStates{ValueName{0, "idle"}, ValueName{1, "charging"}, ValueName{2, "discharging"}};
constexpr std::array kSystemStatus{
    StatusRule{.field = "battery_state", .code = "battery_state", .names = kBatteryStates},
};

// com.victronenergy.temperature. Block 3300-3327.
constexpr std::array kTemperature{
    Register{"temp_c", 3304, RegType::s16, 0.01, 0, -40, 100, "com.victronenergy.temperature:/Temperature"},
    Register{"status", 3305, RegType::u16, 1, 0, 0, 4, "com.victronenergy.temperature:/Status", std::nullopt, {},
             "temp_c"},
};

// com.victronenergy.vebus: the inverter/charger's AC output per phase and its own overload words,
// the inputs of the rules' AC budget (issue 59; docs/registers.md §1.10). attributes.csv:
// /Ac/Out/L1..L3/P 23-25 int16 scale 0.1 (value = raw / 0.1: 10 W steps), /Alarms/Overload 36 and
// /Alarms/L1..L3/Overload 46, 50, 54 uint16, 0 ok, 1 warning, 2 alarm. 20-56 are contiguous
// vebus registers in the map: one read. An output power reads 0 when invalid on D-Bus (§1.3),
// which is also a real idle output: a limitation, said in §1.10; an alarm word outside 0-2 is
// dropped (its range), so it is missing, never a number.
constexpr std::array kVebus{
    Register{"ac_out_l1_w", 23, RegType::s16, 10, 0, -kWmax, kWmax, "com.victronenergy.vebus:/Ac/Out/L1/P"},
    Register{"ac_out_l2_w", 24, RegType::s16, 10, 0, -kWmax, kWmax, "com.victronenergy.vebus:/Ac/Out/L2/P"},
    Register{"ac_out_l3_w", 25, RegType::s16, 10, 0, -kWmax, kWmax, "com.victronenergy.vebus:/Ac/Out/L3/P"},
    Register{"overload", 36, RegType::u16, 1, 0, 0, 2, "com.victronenergy.vebus:/Alarms/Overload"},
    Register{"overload_l1", 46, RegType::u16, 1, 0, 0, 2, "com.victronenergy.vebus:/Alarms/L1/Overload"},
    Register{"overload_l2", 50, RegType::u16, 1, 0, 0, 2, "com.victronenergy.vebus:/Alarms/L2/Overload"},
    Register{"overload_l3", 54, RegType::u16, 1, 0, 0, 2, "com.victronenergy.vebus:/Alarms/L3/Overload"},
};
constexpr std::array kVebusStatus{
    StatusRule{.field = "overload", .code = "overload", .text = "the inverter reports an overload", .trigger = Trigger::level},
    StatusRule{.field = "overload_l1", .code = "overload_l1", .text = "the inverter reports an overload on L1",
               .trigger = Trigger::level},
    StatusRule{.field = "overload_l2", .code = "overload_l2", .text = "the inverter reports an overload on L2",
               .trigger = Trigger::level},
    StatusRule{.field = "overload_l3", .code = "overload_l3", .text = "the inverter reports an overload on L3",
               .trigger = Trigger::level},
};

const Table kSystemTable{"system", kSystem, 125, 125, false, kSystemStatus};
const Table kVebusTable{"vebus", kVebus, 125, 125, false, kVebusStatus};
const Table kBatteryTable{"battery", kBattery, 125, 125, false, kBatteryStatus};
const Table kSolarchargerTable{"solarcharger", kSolarcharger, 125, 125, false, kSolarchargerStatus};
const Table kTemperatureTable{"temperature", kTemperature, 125, 125, false};

}  // namespace

const Table& system_table() { return kSystemTable; }
const Table& battery_table() { return kBatteryTable; }
const Table& solarcharger_table() { return kSolarchargerTable; }
const Table& temperature_table() { return kTemperatureTable; }
const Table& vebus_table() { return kVebusTable; }

// A GX over Modbus TCP: the system service on unit 100, the battery monitor or BMS on its device
// instance (225 by default; none: a site without one), each solar charger and a temperature
// sensor on theirs (attributes.csv, unitid2di.csv; docs/registers.md §1.3).
const DeviceKind& kind() {
  using Count = UnitSlot::Count;
  static const DeviceKind k{
      .key = "victron",
      .label = "a Victron GX",
      .rtu = false,
      .timeout = std::chrono::milliseconds(1000),
      .pacing = std::chrono::milliseconds(0),
      .units = {{"system_unit", "system", &kSystemTable, Count::one, 100},
                {"battery_unit", "battery", &kBatteryTable, Count::optional, 225},
                {"charger_units", "charger", &kSolarchargerTable, Count::list, std::nullopt},
                {"temperature_unit", "temp", &kTemperatureTable, Count::optional, std::nullopt},
                // The VE.Bus inverter/charger: its unit id depends on the port (227 a Cerbo's VE.Bus
                // port, 242 a Venus GX's, 246 a CCGX's: unitid2di.csv) and `shackd probe` finds it.
                {"vebus_unit", "vebus", &kVebusTable, Count::optional, std::nullopt}},
      .settings = {},
      // Best first (docs/registers.md §1.4, §1.5): a shunt's 0.01 V (259) before the GX system's
      // 0.1 V (840); a BMS's coldest cell (318) before the monitor's sensor (262).
      .offers = {{Quantity::battery_v, "battery.battery_v", 10, "battery_monitor", "the battery monitor's voltage"},
                 {Quantity::battery_v, "system.battery_v", 20, "gx_system", "the GX system's battery voltage"},
                 {Quantity::battery_a, "battery.battery_a", 10},
                 {Quantity::battery_a, "system.battery_a", 20},
                 {Quantity::battery_temp_c, "battery.min_cell_temp_c", 10, "bms_min_cell", "the BMS's coldest cell"},
                 {Quantity::battery_temp_c, "battery.battery_temp_c", 20, "battery_monitor",
                  "the battery monitor's sensor"},
                 {Quantity::pv_w, "system.pv_dc_w", 10},
                 // A site's AC loads as the GX's system service sums them (817-819); an inverter
                 // that measures its own output is the nearer meter (rank 10).
                 {Quantity::load_w, "system.ac_consumption_l1_w", 20},
                 {Quantity::load_w, "system.ac_consumption_l2_w", 20},
                 {Quantity::load_w, "system.ac_consumption_l3_w", 20},
                 // The inverter's own output and overload words: the AC source's readings where
                 // the config names none (daemon/config/ac_sources.hpp).
                 {Quantity::ac_out_l1_w, "vebus.ac_out_l1_w", 10},
                 {Quantity::ac_out_l2_w, "vebus.ac_out_l2_w", 10},
                 {Quantity::ac_out_l3_w, "vebus.ac_out_l3_w", 10},
                 {Quantity::ac_overload, "vebus.overload", 10},
                 {Quantity::ac_overload_l1, "vebus.overload_l1", 10},
                 {Quantity::ac_overload_l2, "vebus.overload_l2", 10},
                 {Quantity::ac_overload_l3, "vebus.overload_l3", 10},
                 // A generator on the inverter's AC input: its output per phase (the system
                 // service's, from the inverter's input while the input is a generator).
                 {Quantity::genset_l1_w, "system.genset_l1_w", 10},
                 {Quantity::genset_l2_w, "system.genset_l2_w", 10},
                 {Quantity::genset_l3_w, "system.genset_l3_w", 10}},
      // DVCC max charge current: unit 100 register 2705, A, -1 = no limit (attributes.csv, settings).
      .charge_limits = {{.action = "dvcc",
                         .id = "dvcc",
                         .label = "DVCC max charge current (GX 2705)",
                         .chargers = "Victron chargers",
                         .via = " (DVCC)",
                         .unit = "system",
                         .address = 2705,
                         .no_limit = -1}},
      // A GX solar charger says it in words: its tracking mode (791: 1 voltage or current limited,
      // 2 MPPT tracking; /MppOperationMode, attributes.csv) says whether it holds PV back now; its
      // state (775: 4 absorption, 5 float, 6 storage) only that the bank is full, and it stays at
      // float for hours while the MPPT tracks all it can under a cloud (an independent run took
      // the stage for evidence and probed at -1.2 A with PV below the load). So the stage counts
      // only where 791 is not read (a firmware or charger that does not serve it).
      .limiting = {{"charger", "tracking_mode", {1}, "{} tracking limited (voltage or current)"},
                   {"charger", "charge_state", {4, 5, 6}, "{} in absorption, float or storage", "tracking_mode"}},
      .unit_label = "GX solar charger {}",
      .held = std::nullopt,
      // /Ac/ActiveIn/Source (826): 2 a generator feeds the site; 1 grid, 3 shore, 240 none: not
      // a generator; 0 (not available) is dropped as missing above: not known.
      .generator_running = {{"system.active_input", {2}, {1, 3, 240}}},
  };
  return k;
}

}  // namespace drivers::victron
