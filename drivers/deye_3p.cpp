#include "drivers/deye_3p.hpp"

#include <array>

#include "drivers/deye_family.hpp"

namespace drivers::deye_3p {

namespace {

// "3p" is kellerza/sunsynk three_phase_common.py, "LV" its three_phase_lv.py. kellerza writes a
// negative factor for a signed register; the sign itself is the family's + = discharging for
// the battery (as the single-phase 190/191, §2.4), which the table negates as the Sol-Ark's.
constexpr std::array kRegisters{
    Register{"fault_word_1", 555, RegType::u16, 1, 0, 0, 65535, "3p 555 Fault (FaultSensor 555-558)"},
    Register{"fault_word_2", 556, RegType::u16, 1, 0, 0, 65535, "3p 556 Fault"},
    Register{"fault_word_3", 557, RegType::u16, 1, 0, 0, 65535, "3p 557 Fault"},
    Register{"fault_word_4", 558, RegType::u16, 1, 0, 0, 65535, "3p 558 Fault"},
    // TempSensor: raw x 0.1 then -100, as the single-phase 182.
    Register{"battery_temp_c", 586, RegType::u16, 0.1, -100, -40, 100, "LV 586 Battery temperature"},
    Register{"battery_v", 587, RegType::u16, 0.01, 0, 20, 70, "LV 587 Battery voltage"},
    Register{"soc_pct", 588, RegType::u16, 1, 0, 0, 100, "LV 588 Battery SOC"},
    Register{"battery_w", 590, RegType::s16, -1, 0, -32767, 32768, "LV 590 Battery power"},
    Register{"battery_a", 591, RegType::s16, -0.01, 0, -327.67, 327.68, "LV 591 Battery current"},
    Register{"grid_w", 625, RegType::s16, 1, 0, -32768, 32767, "3p 625 Grid power (gridTotalPac)"},
    Register{"load_l1_w", 650, RegType::s16, 1, 0, -32768, 32767, "3p 650 Load L1 power"},
    Register{"load_l2_w", 651, RegType::s16, 1, 0, -32768, 32767, "3p 651 Load L2 power"},
    Register{"load_l3_w", 652, RegType::s16, 1, 0, -32768, 32767, "3p 652 Load L3 power"},
    Register{"load_w", 653, RegType::s16, 1, 0, 0, 32767, "3p 653 Load power"},
    Register{"pv1_w", 672, RegType::u16, 1, 0, 0, 30000, "3p 672 PV1 power"},
    Register{"pv2_w", 673, RegType::u16, 1, 0, 0, 30000, "3p 673 PV2 power"},
    Register{"pv3_w", 674, RegType::u16, 1, 0, 0, 30000, "3p 674 PV3 power"},
    Register{"pv4_w", 675, RegType::u16, 1, 0, 0, 30000, "3p 675 PV4 power"},
};

// The fault words as one 64-bit map, bit b = F(b+1), as the single-phase 103-106 (kellerza's one
// FaultSensor for both); the codes are not named here: the public single-phase names are not
// known to hold for this family.
constexpr std::array kStatus{
    StatusRule{.field = "fault_word_1", .code = "fault", .text = "inverter fault", .trigger = Trigger::bits, .value = 0},
    StatusRule{.field = "fault_word_2", .code = "fault", .text = "inverter fault", .trigger = Trigger::bits, .value = 16},
    StatusRule{.field = "fault_word_3", .code = "fault", .text = "inverter fault", .trigger = Trigger::bits, .value = 32},
    StatusRule{.field = "fault_word_4", .code = "fault", .text = "inverter fault", .trigger = Trigger::bits, .value = 48},
};

// 555-675 is 121 registers: one read, spanning the holes between, as the single-phase map's
// 79-191 (a unit that refuses a hole has the read split around it).
const Table kTable{.service = "deye3p",
                   .registers = kRegisters,
                   .max_gap = 125,
                   .max_block = 125,
                   .writes_fc16 = true,
                   .status = kStatus,
                   .identity = &deye::three_phase_lv_identity()};

}  // namespace

const Table& table() { return kTable; }

const DeviceKind& kind() {
  static const DeviceKind k{
      .key = "deye_3p",
      .label = "a Deye/Sunsynk three-phase hybrid",
      .rtu = true,
      .timeout = std::chrono::milliseconds(1500),
      .pacing = std::chrono::milliseconds(50),
      .units = {{"unit", "deye3p", &kTable, UnitSlot::Count::one, 1, 1}},
      // kellerza: NumberRWSensor(108, "Battery Max Charge current", AMPS, max=240).
      .settings = {{"max_charge_a", 1, 240}},
      .offers = {{Quantity::battery_v, "deye3p.battery_v", 30, "deye3p", "the Deye three-phase's battery voltage"},
                 {Quantity::battery_a, "deye3p.battery_a", 30, {}, {}, true},
                 {Quantity::battery_temp_c, "deye3p.battery_temp_c", 30, "deye3p", "the Deye three-phase's battery sensor"},
                 {Quantity::pv_w, "deye3p.pv1_w", 10},
                 {Quantity::pv_w, "deye3p.pv2_w", 10},
                 {Quantity::pv_w, "deye3p.pv3_w", 10},
                 {Quantity::pv_w, "deye3p.pv4_w", 10},
                 {Quantity::load_w, "deye3p.load_w", 10}},
      // Battery max charge current: 108 on this map (210 on the single-phase one, where the
      // three-phase map has a read-only BMS value: why the family is checked before any write).
      .charge_limits = {{.action = "deye_3p",
                         .id = "deye3p_charge_limit",
                         .label = "Deye three-phase battery max charge current (108)",
                         .chargers = "Deye three-phase",
                         .via = "",
                         .unit = "deye3p",
                         .address = 108,
                         .no_limit = 0,
                         .restore_setting = "max_charge_a",
                         .restore_why = "the battery max charge current (A) to put back if register 108 already "
                                        "reads 0 A when a block begins"}},
      .limiting = {},
      // Like the single-phase family it tells no charge stage: its battery held at the site's
      // setpoints says it.
      .held = HeldAtSetpointSpec{"the Deye three-phase", "deye3p.battery_v", "deye3p.battery_a",
                                 {"deye3p.pv1_w", "deye3p.pv2_w", "deye3p.pv3_w", "deye3p.pv4_w"}},
  };
  return k;
}

}  // namespace drivers::deye_3p
