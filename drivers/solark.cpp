#include "drivers/solark.hpp"

#include <array>

#include "drivers/deye_family.hpp"

namespace drivers::solark {

namespace {

constexpr std::array kRegisters{
    Register{"grid_hz", 79, RegType::u16, 0.01, 0, 0, 70, "V1.4 79 Grid frequency"},
    Register{"fault_word_1", 103, RegType::u16, 1, 0, 0, 65535, "V1.4 103 Fault information word 1"},
    Register{"fault_word_2", 104, RegType::u16, 1, 0, 0, 65535, "V1.4 104 Fault information word 2"},
    Register{"fault_word_3", 105, RegType::u16, 1, 0, 0, 65535, "V1.4 105 Fault information word 3"},
    Register{"fault_word_4", 106, RegType::u16, 1, 0, 0, 65535, "V1.4 106 Fault information word 4"},
    Register{"daily_pv_kwh", 108, RegType::u16, 0.1, 0, 0, 1000, "V1.4 108 Daily PV Power (Wh)"},
    Register{"grid_v_l1", 150, RegType::u16, 0.1, 0, 0, 300, "V1.4 150 Grid side voltage L1-N"},
    Register{"grid_v_l2", 151, RegType::u16, 0.1, 0, 0, 300, "V1.4 151 Grid side voltage L2-N"},
    // > 0 = import (buy), < 0 = export (sell). Some Deye 16 kW firmware uses 10 W units (§2.6).
    Register{"grid_w", 169, RegType::s16, 1, 0, -32768, 32767, "V1.4 169 Total power of grid side L1-L2"},
    Register{"inverter_out_w", 175, RegType::s16, 1, 0, -32768, 32767, "V1.4 175 Inverter output Total power"},
    Register{"load_l1_w", 176, RegType::s16, 1, 0, -32768, 32767, "V1.4 176 Load side L1 power"},
    Register{"load_l2_w", 177, RegType::s16, 1, 0, -32768, 32767, "V1.4 177 Load side L2 power"},
    Register{"load_w", 178, RegType::s16, 1, 0, 0, 32767, "V1.4 178 Load side Total power"},
    // raw 1200 = 20.0 °C: x0.1 then -100.
    Register{"battery_temp_c", 182, RegType::u16, 0.1, -100, -40, 100, "V1.4 182 Battery temperature"},
    Register{"battery_v", 183, RegType::u16, 0.01, 0, 20, 70, "V1.4 183 Battery voltage"},
    Register{"soc_pct", 184, RegType::u16, 1, 0, 0, 100, "V1.4 184 Battery capacity SOC"},
    Register{"pv1_w", 186, RegType::u16, 1, 0, 0, 30000, "V1.4 186 PV1 input power"},
    Register{"pv2_w", 187, RegType::u16, 1, 0, 0, 30000, "V1.4 187 PV2 input power"},
    Register{"pv3_w", 188, RegType::u16, 1, 0, 0, 30000, "V1.4 188 PV3 input power"},
    Register{"pv4_w", 189, RegType::u16, 1, 0, 0, 30000, "V1.4 189 PV4 input power"},
    // The Sol-Ark's + = discharging, negated to shackd's + = charging.
    Register{"battery_w", 190, RegType::s16, -1, 0, -32767, 32768, "V1.4 190 Battery output power"},
    Register{"battery_a", 191, RegType::s16, -0.01, 0, -327.67, 327.68, "V1.4 191 Battery output current"},
};

// Fault words 103-106 are one 64-bit map: bit b (counting across the words) is fault F(b+1)
// (V1.4 fault table; kellerza/sunsynk FaultSensor). Names of the codes the public sources
// explain; any other bit is reported by its number.
constexpr std::array kFaultCodes{
    ValueName{13, "working mode changed", true},
    ValueName{18, "AC over current"},
    ValueName{20, "DC over current"},
    ValueName{23, "AC leakage or transient over current"},
    ValueName{24, "DC insulation impedance low"},
    ValueName{26, "DC busbar imbalanced"},
    ValueName{29, "parallel communication cable"},
    // Expected on an off-grid site without a generator running: news, not trouble.
    ValueName{35, "no AC grid", true},
    ValueName{42, "AC line voltage low"},
    ValueName{47, "AC frequency out of range"},
    ValueName{56, "DC busbar voltage low (battery low)"},
    ValueName{63, "arc fault"},
    ValueName{64, "heat sink temperature high"},
};
constexpr std::array kStatus{
    StatusRule{.field = "fault_word_1", .code = "fault", .text = "inverter fault", .trigger = Trigger::bits, .value = 0,
               .names = kFaultCodes},
    StatusRule{.field = "fault_word_2", .code = "fault", .text = "inverter fault", .trigger = Trigger::bits, .value = 16,
               .names = kFaultCodes},
    StatusRule{.field = "fault_word_3", .code = "fault", .text = "inverter fault", .trigger = Trigger::bits, .value = 32,
               .names = kFaultCodes},
    StatusRule{.field = "fault_word_4", .code = "fault", .text = "inverter fault", .trigger = Trigger::bits, .value = 48,
               .names = kFaultCodes},
};

// One read, 79-191 (113 registers): the V1.4 map defines every holding register from 0 to past
// 300, so the holes between ours cost bytes, never a refusal, and a round trip behind an RS485
// gateway (80 ms measured) costs more than the bytes: the 81 extra registers take about 170 ms
// at 9600 baud, the three round trips saved 240 ms. A gateway that takes smaller frames sets
// `max_block` (USR: 8); one that refuses an address anyway gets the read split around it.
const Table kTable{.service = "solark",
                   .registers = kRegisters,
                   .max_gap = 125,
                   .max_block = 125,
                   .writes_fc16 = true,
                   .status = kStatus,
                   .identity = &deye::single_phase_identity()};

}  // namespace

const Table& table() { return kTable; }

// A Sol-Ark (Deye/Sunsynk family) over Modbus TCP or RS485 behind a gateway, one unit
// (docs/registers.md §2.1). Its terminal voltage (183) sags with the inverter's current: the last
// battery voltage to trust (§2.4).
const DeviceKind& kind() {
  static const DeviceKind k{
      .key = "solark",
      .label = "a Sol-Ark",
      .rtu = true,
      .timeout = std::chrono::milliseconds(1500),
      .pacing = std::chrono::milliseconds(50),
      .units = {{"unit", "solark", &kTable, UnitSlot::Count::one, 1, 1}},
      // 0-185 A single-phase, up to 290 A in the 16 kW profile (docs/registers.md §2.8).
      .settings = {{"max_charge_a", 1, 290}},
      .offers = {{Quantity::battery_v, "solark.battery_v", 30, "solark", "the Sol-Ark's battery voltage"},
                 {Quantity::battery_a, "solark.battery_a", 30, {}, {}, true},
                 {Quantity::battery_temp_c, "solark.battery_temp_c", 30, "solark", "the Sol-Ark's battery sensor"},
                 {Quantity::pv_w, "solark.pv1_w", 10},
                 {Quantity::pv_w, "solark.pv2_w", 10},
                 {Quantity::pv_w, "solark.pv3_w", 10},
                 {Quantity::pv_w, "solark.pv4_w", 10},
                 // Its own output's meter (178): the site's AC loads where it feeds them all.
                 {Quantity::load_w, "solark.load_w", 10},
                 // Its load side per leg (V1.4 176, 177): the AC source's output where the config
                 // names none. No overload word of its own is mapped (docs/registers.md §2.3).
                 {Quantity::ac_out_l1_w, "solark.load_l1_w", 20},
                 {Quantity::ac_out_l2_w, "solark.load_l2_w", 20}},
      // Battery max charge current: holding register 210, A, written with function 16
      // (docs/registers.md §2.8).
      .charge_limits = {{.action = "solark",
                         .id = "solark_charge_limit",
                         .label = "Sol-Ark battery max charge current (210)",
                         .chargers = "Sol-Ark",
                         .via = "",
                         .unit = "solark",
                         .address = 210,
                         .no_limit = 0,
                         .restore_setting = "max_charge_a",
                         .restore_why = "the battery max charge current (A) to put back if register 210 already "
                                        "reads 0 A when a block begins"}},
      .limiting = {},
      // The Sol-Ark tells no charge stage: its battery held at the site's setpoints says it.
      .held = HeldAtSetpointSpec{"the Sol-Ark", "solark.battery_v", "solark.battery_a",
                                 {"solark.pv1_w", "solark.pv2_w", "solark.pv3_w", "solark.pv4_w"}},
  };
  return k;
}

}  // namespace drivers::solark
