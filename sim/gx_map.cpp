#include "sim/gx_map.hpp"

#include <array>

#include "sim/server.hpp"

namespace sim {

namespace {

// attributes.csv (v1.0.101) as runs of one service type each, the registers mappings.cpp adds
// included (830-833 the date, 834-835 the firmware version: system 800-919 is one run).
const std::vector<GxRun> kRuns{
    {3, 147, "vebus"},          {200, 247, "vebus"},         {256, 331, "battery"},       {771, 793, "solarcharger"},
    {800, 919, "system"},       {1026, 1077, "pvinverter"},  {1282, 1343, "battery"},     {2048, 2053, "motordrive"},
    {2307, 2337, "charger"},    {2600, 2657, "grid"},        {2700, 2708, "settings"},    {2709, 2709, "hub4"},
    {2710, 2715, "settings"},   {2716, 2717, "hub4"},        {2718, 2723, "settings"},    {2724, 2724, "hub4"},
    {2800, 2809, "gps"},        {2900, 2903, "settings"},    {3000, 3017, "tank"},        {3100, 3187, "inverter"},
    {3200, 3257, "genset"},     {3300, 3327, "temperature"}, {3400, 3417, "pulsemeter"},  {3420, 3437, "digitalinput"},
    {3500, 3512, "generator"},  {3600, 3617, "meteo"},       {3700, 3747, "solarcharger"}, {3800, 3847, "evcharger"},
    {3900, 3947, "acload"},     {4000, 4011, "fuelcell"},    {4100, 4137, "alternator"},  {4200, 4227, "dcsource"},
    {4300, 4327, "dcload"},     {4400, 4427, "dcsystem"},    {4500, 4633, "multi"},       {4700, 4700, "pump"},
    {4701, 4704, "settings"},   {4800, 4827, "dcdc"},        {4900, 4957, "acsystem"},    {5000, 5127, "genset"},
    {5200, 5357, "dcgenset"},   {5400, 5407, "system"},      {5420, 5430, "settings"},    {5500, 5517, "heatpump"},
    {5700, 5707, "settings"},   {5800, 5819, "platform"},
};

// The probe's register (26) and what the driver reads (drivers/victron_gx.cpp, attributes.csv).
constexpr std::array kVebus{
    drivers::Register{"ac_out_l1_w", 23, drivers::RegType::s16, 10, 0, -100000, 100000, "com.victronenergy.vebus:/Ac/Out/L1/P"},
    drivers::Register{"ac_out_l2_w", 24, drivers::RegType::s16, 10, 0, -100000, 100000, "com.victronenergy.vebus:/Ac/Out/L2/P"},
    drivers::Register{"ac_out_l3_w", 25, drivers::RegType::s16, 10, 0, -100000, 100000, "com.victronenergy.vebus:/Ac/Out/L3/P"},
    drivers::Register{"dc_v", 26, drivers::RegType::u16, 0.01, 0, 0, 100, "com.victronenergy.vebus:/Dc/0/Voltage"},
    drivers::Register{"overload", 36, drivers::RegType::u16, 1, 0, 0, 2, "com.victronenergy.vebus:/Alarms/Overload"},
    drivers::Register{"overload_l1", 46, drivers::RegType::u16, 1, 0, 0, 2, "com.victronenergy.vebus:/Alarms/L1/Overload"},
    drivers::Register{"overload_l2", 50, drivers::RegType::u16, 1, 0, 0, 2, "com.victronenergy.vebus:/Alarms/L2/Overload"},
    drivers::Register{"overload_l3", 54, drivers::RegType::u16, 1, 0, 0, 2, "com.victronenergy.vebus:/Alarms/L3/Overload"},
    // Its nominal power, for `probe` (issue 59): the model's rating where it has one, else 0.
    drivers::Register{"nominal_w", 130, drivers::RegType::u32_high_first, 1, 0, 0, 10000000, "com.victronenergy.vebus:/Ac/Out/NominalInverterPower"},
    drivers::Register{"nominal_l1_w", 132, drivers::RegType::u32_high_first, 1, 0, 0, 10000000, "com.victronenergy.vebus:/Ac/Out/L1/NominalInverterPower"},
    drivers::Register{"nominal_l2_w", 134, drivers::RegType::u32_high_first, 1, 0, 0, 10000000, "com.victronenergy.vebus:/Ac/Out/L2/NominalInverterPower"},
    drivers::Register{"nominal_l3_w", 136, drivers::RegType::u32_high_first, 1, 0, 0, 10000000, "com.victronenergy.vebus:/Ac/Out/L3/NominalInverterPower"},
};
const drivers::Table kVebusTable{"vebus", kVebus, 125, 125, false};

const UnitSpec* service_at_unit(const std::vector<UnitSpec>& units, int unit, std::string_view service) {
  for (const auto& u : units) {
    if (u.unit == unit && u.table && u.table->service == service) return &u;
  }
  return nullptr;
}

}  // namespace

const std::vector<GxRun>& gx_runs() { return kRuns; }

const drivers::Table& vebus_table() { return kVebusTable; }

std::optional<std::string_view> gx_service_at(const GxMap& m, int address) {
  // A generation's map lacks these (its git history; docs/registers.md §1.9).
  if (address > m.system_end && address <= 919) return std::nullopt;
  if (address > m.solarcharger_end && address <= 793) return std::nullopt;
  for (const auto& [from, to] : m.system_holes) {
    if (address >= from && address <= to) return std::nullopt;
  }
  for (const auto& r : kRuns) {
    if (address >= r.first && address <= r.last) return r.service;
  }
  return std::nullopt;
}

int gx_read_exception(const GxMap& m, const std::vector<UnitSpec>& units, int unit, int address, int count) {
  constexpr int kIllegalValue = 0x03, kIllegalAddress = 0x02, kGatewayPath = 0x0A;
  if (count < 1 || count > 125) return kIllegalValue;
  const auto first = gx_service_at(m, address);
  if (!first) return kIllegalAddress;
  if (!service_at_unit(units, unit, *first)) return kGatewayPath;
  std::string_view current = *first;
  for (int a = address + 1; a < address + count; ++a) {
    const auto s = gx_service_at(m, a);
    if (!s) return kIllegalAddress;
    if (*s != current && !service_at_unit(units, unit, *s)) return kIllegalAddress;
    current = *s;
  }
  return 0;
}

}  // namespace sim
