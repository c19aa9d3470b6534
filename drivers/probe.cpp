#include "drivers/probe.hpp"

#include <fmt/format.h>

#include <array>

#include "drivers/registers.hpp"
#include "drivers/deye_3p.hpp"
#include "drivers/deye_family.hpp"
#include "drivers/eg4.hpp"
#include "drivers/solark.hpp"

namespace drivers::probe {

namespace {
using Clock = std::chrono::steady_clock;

// One register, through a link that is reopened after a timeout or a broken connection.
struct Reader {
  Reader(const Transport& t, std::chrono::milliseconds timeout) : link(t, timeout) {}
  ModbusLink link;
  int requests = 0;
  std::string last_error;
  std::optional<std::uint16_t> read(int unit, std::uint16_t address, ReadResult* result = nullptr,
                                    RegisterSpace space = RegisterSpace::holding) {
    if (!link.connected() && !link.connect(last_error)) {
      if (result) *result = {ReadStatus::link_error, 0, last_error};
      return std::nullopt;
    }
    std::uint16_t word = 0;
    ++requests;
    const ReadResult r = link.read(unit, address, 1, &word, space);
    if (result) *result = r;
    if (r.status != ReadStatus::ok) {
      last_error = r.error;
      return std::nullopt;
    }
    return word;
  }
};

// One register of a table, read by itself (in the table's space) and decoded and checked by its
// row; an implausible value is kept and said in `problems` (a wrong unit id, another device).
std::optional<double> read_row(Reader& r, int unit, const Table& table, const Register& reg,
                               std::vector<std::string>& problems) {
  const auto w = r.read(unit, reg.address, nullptr, table.space);
  if (!w) return std::nullopt;
  const std::array<std::uint16_t, 1> words{*w};
  const double v = decode(reg, words);
  if (const auto why = check_plausible(reg, v)) problems.push_back(*why);
  return v;
}

// Solar charger /State (775), docs/registers.md §1.6.
std::string charge_state_name(std::uint16_t s) {
  switch (s) {
    case 0: return "off";
    case 2: return "fault";
    case 3: return "bulk";
    case 4: return "absorption";
    case 5: return "float";
    case 6: return "storage";
    case 7: return "equalize";
    case 252: return "external control";
    default: return fmt::format("state {}", s);
  }
}

double s16(std::uint16_t w) { return static_cast<double>(static_cast<std::int16_t>(w)); }

// What a GX answers at one unit id for one service's characteristic register (attributes.csv):
// battery 259 /Dc/0/Voltage, solarcharger 775 /State, temperature 3304 /Temperature, vebus 26
// /Dc/0/Voltage. dbus-modbustcp looks up a service *of the register's type* at the unit id and
// answers 0x0A when there is none (mappings.cpp, DataIterator: getService() -> ServiceError,
// which backend.cpp sends as 0x0A), so 0x0A says "not this service here", never "nothing at this
// unit id": a solar charger's unit answers 0x0A to 259. Each service is asked on its own, and a
// unit id with none of them costs one request per service (the rule gives no cheaper answer:
// a read is judged by its first register's type alone).
struct ServiceProbe {
  const char* service;
  std::uint16_t address;
};
constexpr std::array kServiceProbes{ServiceProbe{"battery", 259}, ServiceProbe{"solarcharger", 775},
                                    ServiceProbe{"temperature", 3304}, ServiceProbe{"vebus", 26}};

// The rest of what a found service says of itself, for people and for the devices: block.
Found describe_found(Reader& r, int unit, const ServiceProbe& p, std::uint16_t word) {
  Found f;
  f.unit = unit;
  f.service = p.service;
  if (f.service == "battery") {
    const auto temp = r.read(unit, 262);
    const auto cvl = r.read(unit, 305);   // /Info/MaxChargeVoltage: never 0 on a BMS
    const auto ccl = r.read(unit, 307);   // /Info/MaxChargeCurrent: a BMS's charge limit (0 A on a cold cell)
    const auto cell = r.read(unit, 318);  // /System/MinCellTemperature
    f.bms = (cvl && *cvl != 0) || (ccl && *ccl != 0) || (cell && *cell != 0);
    f.detail = fmt::format("{:.2f} V, {}", word / 100.0,
                           temp && *temp != 0 ? fmt::format("{:.1f} °C", s16(*temp) / 10) : std::string("no temperature sensor"));
    if (f.bms) {
      f.detail += cell && *cell != 0 ? fmt::format(", coldest cell {:.1f} °C", s16(*cell) / 10) : std::string();
      f.detail += ccl ? fmt::format(", charge limit {:.1f} A", *ccl / 10.0) : std::string();
    }
  } else if (f.service == "solarcharger") {
    f.detail = charge_state_name(word);
    if (const auto pv = r.read(unit, 776)) f.detail += fmt::format(", PV {:.1f} V", *pv / 100.0);
  } else if (f.service == "temperature") {
    f.detail = fmt::format("{:.1f} °C", s16(word) / 100.0);
  } else {
    f.detail = fmt::format("{:.2f} V", word / 100.0);
  }
  return f;
}

// Every service of kServiceProbes at `unit` (a unit id may hold several: each service type
// numbers its device instances on its own, and unit 100 also reaches instance 0 of each).
// `absent`: the registers this GX's map does not have (0x02: no unit has them); `trouble`: why
// a request got no answer, for the report.
void classify(Reader& r, int unit, std::vector<Found>& out, std::array<bool, kServiceProbes.size()>& absent,
              std::string& trouble) {
  for (std::size_t i = 0; i < kServiceProbes.size(); ++i) {
    if (absent[i]) continue;
    const ServiceProbe& p = kServiceProbes[i];
    ReadResult res;
    if (const auto w = r.read(unit, p.address, &res)) {
      out.push_back(describe_found(r, unit, p, *w));
      continue;
    }
    if (res.status == ReadStatus::exception && res.exception_code == 0x02) {
      absent[i] = true;  // the map lacks the register itself, whatever the unit (StartAddressError)
    } else if (res.status != ReadStatus::exception) {
      trouble = fmt::format("unit {}: {}", unit, res.error);  // a timeout, a dropped link
    }
  }
}

bool served(Reader& r, int unit, std::uint16_t address) {
  ReadResult res;
  r.read(unit, address, &res);
  return res.status == ReadStatus::ok;
}
}  // namespace

GxReport probe_gx(const TcpTransport& gx, std::chrono::milliseconds timeout, std::chrono::milliseconds budget) {
  GxReport out;
  const auto deadline = Clock::now() + budget;
  Reader r(gx, timeout);
  // Unit 100 first: the system service is on every GX, and it says at once whether one answers.
  ReadResult first;
  const auto system_v = r.read(100, 840, &first);
  out.requests = r.requests;
  if (first.status == ReadStatus::timeout || first.status == ReadStatus::link_error) {
    out.error = r.last_error;
    return out;
  }
  out.reached = true;
  if (system_v) out.units.push_back({100, "system", false, fmt::format("{:.1f} V", *system_v / 10.0)});
  std::array<bool, kServiceProbes.size()> absent{};
  std::string trouble;
  // Unit 100 first (the system's, and device instance 0 of every service), then 1-247.
  for (int unit = 0; unit <= 247; ++unit) {
    if (unit == 100) continue;
    const int u = unit == 0 ? 100 : unit;
    if (Clock::now() > deadline) {
      out.error = fmt::format("the time budget ran out after unit {}: pass --budget-s to scan further", unit - 1);
      break;
    }
    classify(r, u, out.units, absent, trouble);
    if (u != 100) out.last_unit_scanned = u;
  }
  for (std::size_t i = 0; i < kServiceProbes.size(); ++i) {
    if (absent[i]) {
      out.map_notes.push_back(fmt::format("register {} ({}) is not in this GX's map (0x02): that service was not looked for",
                                          kServiceProbes[i].address, kServiceProbes[i].service));
    }
  }
  if (!trouble.empty() && out.error.empty()) out.error = "some requests got no answer (" + trouble + ")";
  // The register-map generation, from what the system and a solar charger serve
  // (dbus-modbustcp's history, docs/registers.md §1.9).
  if (system_v) {
    if (served(r, 100, 847)) {
      out.map = "v1.0.95 or later";
    } else if (served(r, 100, 884)) {
      out.map = "v1.0.85 to v1.0.94";
      out.map_notes.push_back("847-849, 852-854, 856-859 and 861-864 are not served: shackd reads around them");
    } else {
      out.map = "older than v1.0.85";
      out.map_notes.push_back("884-913 (the 32-bit grid powers) are not served: not needed off-grid");
    }
    for (const auto& f : out.units) {
      if (f.service == "solarcharger" && !served(r, f.unit, 792)) {
        out.map = "older than v1.0.78";
        out.map_notes.push_back(fmt::format("unit {}: 792/793 (PV power, 32-bit) are not served; PV comes from the "
                                            "system's 850", f.unit));
        break;
      }
    }
  }
  out.requests = r.requests;
  return out;
}

SolarkReport probe_solark(const Transport& t, int unit, std::chrono::milliseconds timeout) {
  SolarkReport out;
  Reader r(t, timeout);
  // The device type first (docs/registers.md §2.9): it says which map the rest is read with.
  const Table* map = &solark::table();
  if (const auto type = r.read(unit, 0)) {
    out.device_type = *type;
    out.family = "a device type the public maps do not name";
    for (const auto& f : deye::family()) {
      if (f.value != *type) continue;
      out.family = std::string(f.name);
      out.kind = std::string(f.kind);
      if (f.kind == deye::three_phase_lv_identity().kind) map = &deye_3p::table();
    }
    if (out.kind.empty()) {
      out.answered = true;
      return out;
    }
  }
  // Battery temperature, voltage and SOC (V1.4 182-184; 586-588 on the three-phase map), decoded
  // by shackd's own table.
  const Table& table = *map;
  const std::uint16_t temp_at = map == &solark::table() ? 182 : 586;
  const auto decode_at = [&](std::uint16_t address) -> std::optional<double> {
    for (const Register& reg : table.registers) {
      if (reg.address == address) return read_row(r, unit, table, reg, out.problems);
    }
    return std::nullopt;
  };
  out.battery_v = decode_at(static_cast<std::uint16_t>(temp_at + 1));
  if (!out.battery_v) {
    out.error = r.last_error.empty() ? "no answer" : r.last_error;
    return out;
  }
  out.answered = true;
  out.battery_temp_c = decode_at(temp_at);
  out.soc_pct = decode_at(static_cast<std::uint16_t>(temp_at + 2));
  return out;
}

Eg4Report probe_eg4(const Transport& t, int unit, std::chrono::milliseconds timeout) {
  Eg4Report out;
  Reader r(t, timeout);
  // By field (SOC and SOH are the two bytes of one register: each read by its own row).
  const auto value = [&](const Table& table, std::string_view field) -> std::optional<double> {
    for (const Register& reg : table.registers) {
      if (reg.field == field) return read_row(r, unit, table, reg, out.problems);
    }
    return std::nullopt;
  };
  out.battery_v = value(eg4::input_table(), "battery_v");
  if (!out.battery_v) {
    out.error = r.last_error.empty() ? "no answer" : r.last_error;
    return out;
  }
  out.answered = true;
  out.soc_pct = value(eg4::input_table(), "soc_pct");
  out.soh_pct = value(eg4::input_table(), "soh_pct");
  out.charge_current_a = value(eg4::holding_table(), "charge_current_a");
  return out;
}

}  // namespace drivers::probe
