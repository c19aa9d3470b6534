#include "drivers/eg4.hpp"

#include <array>

namespace drivers::eg4 {

namespace {

// "P" is Luxpower's protocol document (V16/V23, OwlBawl/Luxpower-Modbus-RTU), section 2.1 input
// registers and 2.2 holding registers; "lxp-bridge" its doc/inputs.md field names.
constexpr std::array kInputs{
    Register{"state", 0, RegType::u16, 1, 0, 0, 65535, "P input 0 State (operational mode, §3.1)"},
    Register{"battery_v", 4, RegType::u16, 0.1, 0, 20, 70, "P input 4 Vbat 0.1 V; lxp-bridge v_bat"},
    // One word, two fields: SOC in the low byte, SOH in the high byte (lxp-bridge soc/soh).
    Register{"soc_pct", 5, RegType::u8_low, 1, 0, 0, 100, "P input 5 SOC/SOH, low byte; lxp-bridge soc"},
    Register{"soh_pct", 5, RegType::u8_high, 1, 0, 0, 100, "P input 5 SOC/SOH, high byte; lxp-bridge soh"},
    // The document calls 9 "Ppv3 ... total PV power"; lxp-bridge reads it as string 3 and sums
    // p_pv = p_pv_1 + p_pv_2 + p_pv_3 (its example: 455 = 455 + 0 + 0).
    Register{"pv1_w", 7, RegType::u16, 1, 0, 0, 30000, "P input 7 Ppv1 W; lxp-bridge p_pv_1"},
    Register{"pv2_w", 8, RegType::u16, 1, 0, 0, 30000, "P input 8 Ppv2 W; lxp-bridge p_pv_2"},
    Register{"pv3_w", 9, RegType::u16, 1, 0, 0, 30000, "P input 9 Ppv3 W; lxp-bridge p_pv_3"},
    Register{"charge_w", 10, RegType::u16, 1, 0, 0, 30000, "P input 10 Pcharge W (into the battery)"},
    Register{"discharge_w", 11, RegType::u16, 1, 0, 0, 30000, "P input 11 Pdischarge W (out of the battery)"},
    // The off-grid (EPS) output: where an off-grid site's AC loads are.
    Register{"eps_w", 24, RegType::u16, 1, 0, 0, 30000, "P input 24 Peps W; lxp-bridge p_eps"},
    Register{"fault_code_low", 60, RegType::u16, 1, 0, 0, 65535, "P input 60 FaultCode L (E000-E015)"},
    Register{"fault_code_high", 61, RegType::u16, 1, 0, 0, 65535, "P input 61 FaultCode H (E016-E031)"},
    Register{"internal_temp_c", 64, RegType::s16, 1, 0, -40, 120, "P input 64 Tinner °C"},
    Register{"battery_temp_c", 67, RegType::s16, 1, 0, -40, 100, "P input 67 Tbat °C"},
};

// The charge current setting: written for the cold block (0 A) and put back after it.
constexpr std::array kHolding{
    Register{"charge_current_a", 101, RegType::u16, 1, 0, 0, 400, "P hold 101 ChargeRate A (charging current)"},
};

// Operational modes (P §3.1): shown as the inverter's state.
constexpr std::array kStates{
    ValueName{0x00, "standby"},
    ValueName{0x01, "fault"},
    ValueName{0x02, "programming"},
    ValueName{0x04, "PV on grid"},
    ValueName{0x08, "PV charging"},
    ValueName{0x0C, "PV charging and on grid"},
    ValueName{0x10, "battery on grid"},
    ValueName{0x14, "PV and battery on grid"},
    ValueName{0x20, "AC charging"},
    ValueName{0x28, "PV and AC charging"},
    ValueName{0x40, "battery off grid"},
    ValueName{0x60, "off grid, battery charging"},
    ValueName{0x80, "PV off grid"},
    ValueName{0x88, "PV charging, off grid"},
    ValueName{0xC0, "PV and battery off grid"},
};

// Fault codes (P §3.2): bit b of the 32-bit code is E0bb; the codes the document names.
constexpr std::array kFaultCodes{
    ValueName{0, "internal communication fault 1"},
    ValueName{1, "model fault"},
    ValueName{8, "parallel CAN communication failed"},
    ValueName{9, "parallel host missing"},
    ValueName{10, "parallel power inconsistent"},
    ValueName{11, "parallel settings inconsistent"},
    ValueName{12, "UPS output short circuit"},
    ValueName{13, "UPS output backfeed"},
    ValueName{14, "DC bus short circuit"},
    ValueName{15, "phase abnormal"},
    ValueName{16, "relay fault"},
    ValueName{17, "internal communication fault 2"},
    ValueName{18, "internal communication fault 3"},
    ValueName{19, "DC bus overvoltage"},
    ValueName{20, "EPS connection fault"},
    ValueName{21, "PV overvoltage"},
    ValueName{22, "overcurrent"},
    ValueName{23, "neutral fault"},
    ValueName{24, "PV short circuit"},
    ValueName{25, "heat sink temperature"},
    ValueName{26, "internal failure"},
    ValueName{27, "consistency failure"},
    ValueName{28, "parallel synchronisation lost"},
    ValueName{31, "internal communication fault 4"},
};

constexpr std::array kStatus{
    StatusRule{.field = "state", .code = "state", .text = "inverter state", .trigger = Trigger::none, .names = kStates},
    StatusRule{.field = "fault_code_low", .code = "fault", .text = "inverter fault", .trigger = Trigger::bits,
               .value = -1, .names = kFaultCodes, .prefix = "E", .digits = 3},
    StatusRule{.field = "fault_code_high", .code = "fault", .text = "inverter fault", .trigger = Trigger::bits,
               .value = 15, .names = kFaultCodes, .prefix = "E", .digits = 3},
};

// + = charging, as every battery current in shackd: what goes in less what comes out, over the
// voltage they were read at (P input 10 Pcharge, 11 Pdischarge, 4 Vbat). 1 W resolution is
// 0.02 A at 50 V.
constexpr std::array kDerived{
    Derived{"battery_a", "charge_w", "discharge_w", "battery_v", -600, 600, "P input (10 - 11) / 4"},
};

// Luxpower's own clients read the input registers in blocks of 40 from 0, 40, 80 ... and the
// document defines every address inside them, so a read spans the holes; it never crosses a
// multiple of 40. Writes with function 6 (P §2.2: "Read/Write: 0x03/0x06/0x10").

const Table kInputTable{.service = "eg4",
                        .registers = kInputs,
                        .max_gap = 40,
                        .max_block = 40,
                        .writes_fc16 = false,
                        .status = kStatus,
                        .space = RegisterSpace::input,
                        .block_align = 40,
                        .identity = nullptr,
                        .derived = kDerived};
const Table kHoldingTable{.service = "eg4_settings",
                          .registers = kHolding,
                          .max_gap = 40,
                          .max_block = 40,
                          .writes_fc16 = false,
                          .status = {},
                          .space = RegisterSpace::holding,
                          .block_align = 40};

}  // namespace

const Table& input_table() { return kInputTable; }
const Table& holding_table() { return kHoldingTable; }

const DeviceKind& kind() {
  using Count = UnitSlot::Count;
  static const DeviceKind k{
      .key = "eg4",
      .label = "an EG4 or Luxpower inverter",
      .rtu = true,
      .baud = 19200,  // P: "RS-485, 19200bps, 8N1"
      // 19200 baud; its clients wait up to a second per block. Its gateways, like the Sol-Ark's,
      // want a gap between requests.
      .timeout = std::chrono::milliseconds(1500),
      .pacing = std::chrono::milliseconds(50),
      // Both tables at the one unit id the owner gives (P §2.2 hold 15 "Com Addr", default 1).
      .units = {{"unit", "eg4", &kInputTable, Count::one, 1, 1},
                {"unit", "eg4_settings", &kHoldingTable, Count::one, 1, 1}},
      // Hold 101 takes 0-140 A on the 12K (P §2.2); the 18kPV charges at up to 250 A.
      .settings = {{"max_charge_a", 1, 250}},
      // Its terminal voltage, 0.1 V: ranked with the other inverters' (docs/registers.md §4.3);
      // its battery current from its charge and discharge power (kDerived), its share in parallel.
      // Its battery temperature (67) and BMS current (98) are not offered: no public source says
      // what 67 reads without a sensor or which sign 98 has (docs/registers.md §4.4).
      .offers = {{Quantity::battery_v, "eg4.battery_v", 30, "eg4", "the EG4's battery voltage"},
                 {Quantity::battery_a, "eg4.battery_a", 30, {}, {}, true},
                 {Quantity::pv_w, "eg4.pv1_w", 10},
                 {Quantity::pv_w, "eg4.pv2_w", 10},
                 {Quantity::pv_w, "eg4.pv3_w", 10},
                 {Quantity::load_w, "eg4.eps_w", 10}},
      .charge_limits = {{.action = "eg4",
                         .id = "eg4_charge_limit",
                         .label = "EG4 charge current (hold 101)",
                         .chargers = "EG4",
                         .via = "",
                         .unit = "eg4_settings",
                         .address = 101,
                         .no_limit = 0,
                         .restore_setting = "max_charge_a",
                         .restore_why = "the charge current (A) to put back if holding register 101 already "
                                        "reads 0 A when a block begins"}},
      .limiting = {},
      .held = std::nullopt,
  };
  return k;
}

}  // namespace drivers::eg4
