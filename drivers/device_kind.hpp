#pragma once
// A device kind as data: what the owner configures under devices.<name> (kind: <key>), which
// units it polls with which register table, what its readings can stand for (battery voltage,
// temperature, current, PV, load, each ranked against every other kind's), which charge limits it
// can hold at 0 A, and how it says that its chargers hold PV back. The config, the loop and `check` read these; none
// of them names a kind (drivers/kinds.cpp lists the built-in ones). A new kind is one file: its
// tables and one of these.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/modbus_device.hpp"
#include "drivers/registers.hpp"

namespace drivers {

// One Modbus unit of a kind: a register table at a unit id the owner gives under `key`.
struct UnitSlot {
  enum class Count { one, optional, list };
  std::string_view key;    // "battery_unit": the config key
  std::string_view name;   // "battery": its readings are "battery.<field>"; a list's are numbered, "charger1"
  const Table* table = nullptr;
  Count count = Count::one;
  std::optional<int> default_id;  // one/optional: the id when the key is absent (optional: none)
  int min_id = 0;                 // Modbus unit ids go up to 247
};

// A number the owner gives for the kind (the Sol-Ark's max_charge_a).
struct KindSetting {
  std::string_view key;
  int min = 0, max = 0;
};

// What a reading can stand for at the site.
// ac_*: an AC source's output per phase and its own overload words (0 ok, 1 warning, 2 alarm).
enum class Quantity {
  battery_v, battery_a, battery_temp_c, pv_w, load_w,
  ac_out_l1_w, ac_out_l2_w, ac_out_l3_w, ac_overload, ac_overload_l1, ac_overload_l2, ac_overload_l3,
  genset_l1_w, genset_l2_w, genset_l3_w  // a generator's output per phase
};

// A reading of this kind offered for a site quantity. Across every configured device, offers are
// taken best rank first (a shunt's 0.01 V before a GX's 0.1 V before an inverter's terminal
// reading); PV offers are summed (each device's own panels); load offers of the best rank only
// (a site's load is measured in one place: two meters of it would count it twice).
struct Offer {
  Quantity quantity;
  std::string_view reading;  // "battery.battery_v": its unit slot must be configured
  int rank = 0;
  std::string_view name{};   // "battery_monitor": in status, events and the journal
  std::string_view label{};  // "the battery monitor's voltage": in reasons
  // The device's own share of a flow the bank's devices split (an inverter's battery current,
  // two in parallel each carrying part): offers of one rank that are shares are summed.
  bool share = false;
};

// A charge-current limit the kind can hold at 0 A while the rules block charging.
struct ChargeLimitWriter {
  std::string_view action;    // its word in safety.charge_block_action: "dvcc"
  std::string_view id;        // the row that remembers it across restarts: "dvcc", "solark_charge_limit"
  std::string_view label;     // "DVCC max charge current (GX 2705)"
  std::string_view chargers;  // what it stops, for warnings: "Victron chargers"
  std::string_view via{};     // how, when chosen: " (DVCC)"
  std::string_view unit;      // the unit slot it writes on: "system"
  std::uint16_t address = 0;
  // Put back when the limit already read 0 A as the block began (shackd's own 0 from before a
  // crash): `no_limit`, or the owner's `restore_setting`, which is then required.
  std::int16_t no_limit = -1;
  std::string_view restore_setting{};
  std::string_view restore_why{};  // why the setting is required, for the error
};

// A charger's own word that it holds PV back: any listed value of `field`, on every unit of
// the slot `unit` ("charger": each solar charger).
struct LimitingWord {
  std::string_view unit;
  std::string_view field;
  std::vector<int> values;
  std::string_view label;  // "{} in float": {} becomes the unit's label ("GX solar charger 1")
  // The word counts only where this field of the same unit is not read fresh: a weaker word
  // (a charge stage, which stays at float for hours while the MPPT takes all it can) gives way
  // to a direct one (the tracking mode) wherever the firmware serves it.
  std::string_view unless_read{};
};

// A charger that tells no stage: judged by its battery held at the site's setpoints while its PV
// produces (drivers/readings.hpp, SnapshotMapping::HeldAtSetpoint).
struct HeldAtSetpointSpec {
  std::string_view label;  // "the Sol-Ark"
  std::string_view battery_v, battery_a;
  std::vector<std::string_view> pv_w;
};

// A device's word that says whether a generator feeds the site: `running` values yes,
// `not_running` values no, any other value not known.
struct GeneratorWord {
  std::string_view reading;  // "system.active_input"
  std::vector<int> running;
  std::vector<int> not_running;
};

struct DeviceKind {
  std::string_view key;    // "victron": the section devices.victron and the poller's name
  std::string_view label;  // "a Victron GX": in messages
  bool rtu = false;        // may be on RS485 (transport: rtu) as well as Modbus TCP
  int baud = 9600;         // its serial line's usual speed, when `baud:` is not given
  std::chrono::milliseconds timeout{1000};
  std::chrono::milliseconds pacing{0};
  std::vector<UnitSlot> units;
  std::vector<KindSetting> settings;
  std::vector<Offer> offers;
  std::vector<ChargeLimitWriter> charge_limits;
  std::vector<LimitingWord> limiting;
  std::string_view unit_label{};  // a list unit's label in evidence: "GX solar charger {}"
  std::optional<HeldAtSetpointSpec> held;
  std::vector<GeneratorWord> generator_running{};
};

// The owner's device: a kind, the owner's name for it and the values its section gave.
struct DeviceSettings {
  const DeviceKind* kind = nullptr;
  // "solark_a": its poller, health, alarms and readings go by it. A device named after its kind
  // (the old devices.<kind> sections, or `solark: {kind: solark}`) keeps its kind's reading names
  // ("solark.battery_v", "system.battery_v"); another name replaces them (instance_prefix()).
  std::string name;
  bool enabled = true;
  Transport transport = TcpTransport{"127.0.0.1", 502};
  std::chrono::milliseconds timeout{1000};
  std::chrono::milliseconds pacing{0};
  std::optional<int> max_block;
  std::vector<std::vector<int>> unit_ids;    // per kind->units: one id, none or one, or a list
  std::vector<std::optional<int>> settings;  // per kind->settings
  bool operator==(const DeviceSettings&) const = default;
};

// The settings a kind starts from before its section is read: its defaults, named after it.
DeviceSettings defaults_of(const DeviceKind& kind);
// Whether the device goes by its kind's own names (named after its kind).
bool kind_named(const DeviceSettings& d);
// The readings' prefix of the device's unit slot `slot` (its kind's name for it, "solark",
// "system"): the same when the device is named after its kind; else the device's name for a kind
// of one unit ("solark_a"), the device's name in the kind's place for a slot named after its kind
// ("eg4_settings" -> "eg4_b_settings"), or "<name>_<slot>" ("gx2_system").
std::string instance_prefix(const DeviceSettings& d, std::string_view slot);
// A reading as the kind names it ("solark.battery_v", "charger1.charge_state") as this device
// names it ("solark_a.battery_v", "gx2_charger1.charge_state").
std::string instance_reading(const DeviceSettings& d, std::string_view kind_reading);
// A word of the kind's (an offer's source name, a charge limit's row id) for this device: the
// same when named after its kind, else prefixed with the device's name.
std::string instance_word(const DeviceSettings& d, std::string_view word);
// A label of the kind's ("the Sol-Ark's battery voltage") for this device: the same when named
// after its kind, else followed by the device's name ("the Sol-Ark's battery voltage on solark_a").
std::string instance_label(const DeviceSettings& d, std::string_view label);
// The value of `key` among the kind's settings, if given.
std::optional<int> setting(const DeviceSettings& d, std::string_view key);

// The units it polls, each with its readings' prefix ("system", "charger1"; "gx2_system") and table.
std::vector<UnitConfig> units_of(const DeviceSettings& d);
// The unit id behind a prefix as the kind names it ("system" -> 100), if that unit is configured.
std::optional<int> unit_id(const DeviceSettings& d, std::string_view kind_prefix);
// What the loop polls.
DeviceConfig device_config(const DeviceSettings& d);

}  // namespace drivers
