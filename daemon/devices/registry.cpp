#include "daemon/devices/registry.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "drivers/solark.hpp"
#include "drivers/victron_gx.hpp"

namespace shackd::devices {

namespace {

// A Victron GX over Modbus TCP: the system service, the battery monitor or BMS, each solar
// charger and a temperature sensor, each on its own unit id (attributes.csv, unitid2di.csv).
drivers::DeviceConfig victron_gx(const VictronConfig& c) {
  using namespace drivers::victron;
  drivers::DeviceConfig d;
  d.name = "victron";
  d.transport = c.tcp;
  d.timeout = c.timeout;
  d.pacing = c.pacing;
  d.units.push_back({c.system_unit, &system_table(), "system"});
  if (c.battery_unit) d.units.push_back({*c.battery_unit, &battery_table(), "battery"});
  for (std::size_t i = 0; i < c.charger_units.size(); ++i) {
    d.units.push_back({c.charger_units[i], &solarcharger_table(), fmt::format("charger{}", i + 1)});
  }
  if (c.temperature_unit) d.units.push_back({*c.temperature_unit, &temperature_table(), "temp"});
  return d;
}

// A Sol-Ark (Deye/Sunsynk family) over Modbus TCP or RTU behind a gateway, one unit.
drivers::DeviceConfig solark(const SolarkConfig& c) {
  drivers::DeviceConfig d;
  d.name = "solark";
  d.transport = c.transport;
  d.timeout = c.timeout;
  d.pacing = c.pacing;
  d.max_block = c.max_block;
  d.units.push_back({c.unit, &drivers::solark::table(), "solark"});
  return d;
}

}  // namespace

std::vector<drivers::DeviceConfig> modbus_devices(const Config& config) {
  std::vector<drivers::DeviceConfig> out;
  if (config.victron.enabled) out.push_back(victron_gx(config.victron));
  if (config.solark.enabled) out.push_back(solark(config.solark));
  return out;
}

std::chrono::milliseconds longest_timeout(const Config& config) {
  std::chrono::milliseconds longest{0};
  for (const auto& d : modbus_devices(config)) longest = std::max(longest, d.timeout);
  return longest;
}

std::string enabled_kinds(const Config& config) {
  std::string out;
  for (const auto& d : modbus_devices(config)) out += (out.empty() ? "" : " ") + d.name;
  return out.empty() ? "none" : out;
}

std::vector<ChargeLimitSlot> charge_limits(const Config& config) {
  std::vector<ChargeLimitSlot> out;
  // DVCC max charge current: unit 100 register 2705, A, -1 = no limit (attributes.csv, settings).
  out.push_back({{"dvcc", "DVCC max charge current (GX 2705)", config.victron.system_unit, 2705, -1},
                 "victron",
                 config.charge_block_action.dvcc});
  // Sol-Ark battery max charge current: holding register 210, A, written with function 16
  // (docs/registers.md §2.8).
  out.push_back({{"solark_charge_limit", "Sol-Ark battery max charge current (210)", config.solark.unit, 210,
                  static_cast<std::int16_t>(config.solark.max_charge_a.value_or(0))},
                 "solark",
                 config.charge_block_action.solark && config.solark.max_charge_a.has_value()});
  return out;
}

void add_charger_evidence(const Config& config, const rules::Thresholds& t, drivers::SnapshotMapping& mapping) {
  // A GX solar charger says it in words: its state (775: 4 absorption, 5 float, 6 storage) and
  // its tracking mode (791: 1 voltage or current limited), attributes.csv.
  for (std::size_t i = 0; i < config.victron.charger_units.size(); ++i) {
    if (!config.victron.enabled) break;
    const std::string c = fmt::format("charger{}.", i + 1);
    mapping.chargers_limiting.push_back(
        {c + "charge_state", {4, 5, 6}, fmt::format("GX solar charger {} in absorption, float or storage", i + 1)});
    mapping.chargers_limiting.push_back(
        {c + "tracking_mode", {1}, fmt::format("GX solar charger {} tracking limited (voltage or current)", i + 1)});
  }
  if (config.solark.enabled) {
    // The Sol-Ark tells no charge stage: its battery held at the site's setpoints says it.
    drivers::SnapshotMapping::HeldAtSetpoint h;
    h.label = "the Sol-Ark";
    h.battery_v = "solark.battery_v";
    h.battery_a = "solark.battery_a";
    h.pv_w = {"solark.pv1_w", "solark.pv2_w", "solark.pv3_w", "solark.pv4_w"};
    h.absorption_v = t.absorption_v;
    h.float_v = t.float_v;
    mapping.chargers_held.push_back(std::move(h));
  }
}

}  // namespace shackd::devices
