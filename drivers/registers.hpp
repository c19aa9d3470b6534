#pragma once
// Register tables and their pure decoding. No I/O here: decode() takes the words a read
// returned, so every register is testable on recorded fixtures without a socket.
//
// One convention for both devices: value = raw x factor + offset, after the raw words are
// assembled in the register's word order. Victron's list says "value = raw / scale" (so its
// factor is 1/scale); Sol-Ark's says "raw x factor" (docs/registers.md §0).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace drivers {

enum class RegType {
  u16,
  s16,
  u32_high_first,  // Victron: register N holds bits 31..16 (docs/registers.md §1.1)
  s32_high_first,
  u32_low_first,   // Sol-Ark: register N holds bits 15..0 (docs/registers.md §2.2)
  s32_low_first,
  // One byte of a register, unsigned. Two fields share one word: Luxpower/EG4 input register 5
  // holds the SOC in its low byte and the SOH in its high byte (celsworth/lxp-bridge's input
  // register parser; the field reading in its issue #176).
  u8_low,
  u8_high,
};

int word_count(RegType t);
bool is_signed(RegType t);

struct Register {
  std::string_view field;   // "battery_v": the reading's name within its service
  std::uint16_t address;    // 0-based wire address
  RegType type;
  double factor;            // value = raw * factor + offset
  double offset = 0;
  double min;               // plausible range: outside it the reading is dropped as invalid
  double max;
  std::string_view source;  // where the row comes from: "com.victronenergy.system:/Dc/Battery/Voltage"
  // The raw value the device sends for "not available", if it has one: such a reading is
  // missing, not a measurement. dbus-modbustcp answers 0 for a D-Bus value that is invalid
  // (a battery monitor without a temperature sensor reports 262 = 0), so kInvalidIsZero.
  std::optional<std::int64_t> not_available_raw{};
  // A value that is real only when this other field of the same unit read valid in the same
  // poll. A BMS's charge current limit (307) and allow-to-charge (1297) read 0 both when the BMS
  // says "no charging" and, on a plain battery monitor, when the value does not exist on D-Bus:
  // the BMS's charge voltage limit (305, never 0 on a BMS) tells the two apart.
  std::string_view only_with{};
  // A sensor's own status word: while it reads non-zero, the reading `invalidates` of the same
  // unit is dropped as invalid (a temperature service's 3305: 0 OK, 1 open circuit, 2 short,
  // 3 reverse polarity, 4 supply; an open sensor still reports a number in 3304).
  std::string_view invalidates{};
};

inline constexpr std::optional<std::int64_t> kInvalidIsZero{0};

// What a device's state and alarm registers mean, as its map defines them: a state is shown by
// name; an alarm is raised while its condition holds. Evaluated by drivers/device_status.hpp.
struct ValueName {
  int value;
  std::string_view name;
  bool warning = false;  // a fault code that is news rather than trouble (a Sol-Ark's F35 "no AC grid")
};
enum class Trigger {
  none,    // a state only: shown by name, never an alarm
  level,   // dbus-modbustcp's alarm registers: 0 no alarm, 1 warning, 2 alarm (attributes.csv)
  equals,  // an alarm while the value equals `value` (a charger's state 2 = fault)
  bits,    // a fault bitmap word: bit b is fault F(value + b + 1) (Sol-Ark 103-106, docs/registers.md §2)
};
struct StatusRule {
  std::string_view field{};  // the reading within its service: "charge_state"
  std::string_view code{};   // names the alarm or state: "charger_fault"
  std::string_view text{};   // what it means to an owner: "the solar charger reports a fault"
  Trigger trigger = Trigger::none;
  int value = 0;
  std::span<const ValueName> names{};  // a state's value names; for bits, the known fault codes
  bool warning = false;                // an `equals` or `bits` alarm that is only a warning
  std::string_view unit{};             // a state without names is shown as its number and unit
  // How a bits alarm names its code: the Sol-Ark's "F35", Luxpower's "E021".
  std::string_view prefix = "F";
  int digits = 2;
};

// True when `words` hold the register's "not available" value.
bool is_not_available(const Register& r, std::span<const std::uint16_t> words);

// A service: one unit id's worth of registers (GX system on 100, a battery monitor on 225, ...).
// Where a table's registers live: read with function 3 (holding) or 4 (input). Victron's GX and
// the Deye family serve what shackd reads as holding registers; Luxpower/EG4 serve their readings
// as input registers and their settings as holding registers, two separate address spaces.
enum class RegisterSpace { holding, input };

// What a unit says it is: one register whose value names its family (the Deye family's device
// type in holding register 0, kellerza/sunsynk definitions/__init__.py DEVICE_TYPE). A unit of a
// family the table does not fit is refused: nothing is read from it and nothing written to it.
struct FamilyValue {
  int value;
  std::string_view name;    // "a Deye/Sunsynk single-phase hybrid"
  std::string_view kind{};  // the device kind whose map reads it ("solark"); empty: none does
  std::string_view why{};   // when none does: why not
};
struct Identity {
  std::uint16_t address = 0;
  std::span<const FamilyValue> values;
  std::string_view kind;  // the kind this table belongs to: the values of that kind fit it
};

// A reading computed from others of its unit read in the same poll: (plus - minus) / per, as old
// as its oldest part, missing when a part is. The EG4's battery current from its charge and
// discharge power and its voltage: its one current register has no documented sign (§4.4).
struct Derived {
  std::string_view field;  // "battery_a"
  std::string_view plus, minus, per;
  double min, max;         // plausible range, as a register's
  std::string_view source;
};

struct Table {
  std::string_view service;     // "system", "battery", "solarcharger", "temperature", "solark"
  std::span<const Register> registers;
  // Reads may span unlisted registers when the device serves them (Victron's system block
  // 800-919 is contiguous; a gap into an unmapped address fails the whole read with 0x02).
  int max_gap = 0;
  int max_block = 125;          // Modbus allows 125; gateways may need fewer
  // Writes with function 16 even for one register: Sunsynk/Deye/Sol-Ark inverters do not
  // implement function 6 (docs/registers.md §2.1, kellerza). dbus-modbustcp takes both.
  bool writes_fc16 = false;
  std::span<const StatusRule> status{};  // states and alarms decoded from this unit's readings
  RegisterSpace space = RegisterSpace::holding;
  // A read may not cross a multiple of this (0: no such rule). Luxpower's protocol document
  // reads in blocks of 40 starting at 0, 40, 80 ... (lxp-bridge reads its input registers so).
  int block_align = 0;
  // Read once per connection before anything else (nullptr: the table trusts its unit id).
  const Identity* identity = nullptr;
  std::span<const Derived> derived{};
};

// Assembles the raw integer from `words` (word_count(type) of them).
std::int64_t raw_value(RegType type, std::span<const std::uint16_t> words);
// raw x factor + offset. Plausibility is the caller's: see check_plausible().
double decode(const Register& r, std::span<const std::uint16_t> words);
// The inverse, for the simulator: the words that decode to `value` (clamped to the type).
std::vector<std::uint16_t> encode(const Register& r, double value);

// nullopt when plausible, else why not: "battery_v 655.35 outside 20..70".
std::optional<std::string> check_plausible(const Register& r, double value);

// Contiguous reads covering every register: registers merged while the gap between them is at
// most `max_gap` and the read stays within `max_block` registers.
struct Block {
  std::uint16_t start;
  std::uint16_t count;
};
// With `align` > 0 no read crosses a multiple of `align`.
std::vector<Block> plan_blocks(std::span<const Register> regs, int max_gap, int max_block, int align = 0);

}  // namespace drivers
