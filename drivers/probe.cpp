#include "drivers/probe.hpp"

#include <fmt/format.h>

#include <array>

#include "drivers/registers.hpp"
#include "drivers/deye_3p.hpp"
#include "drivers/deye_family.hpp"
#include "drivers/eg4.hpp"
#include "drivers/solark.hpp"
#include "drivers/victron_gx.hpp"

namespace drivers::probe {

namespace {
using Clock = std::chrono::steady_clock;

// One register, through a link that is reopened after a timeout or a broken connection. Each
// reply's frame is checked against its request (ModbusLink::read_framed): one that does not match
// is no value, and said (`doubts`). With a deadline, no request starts after it and none outlasts
// it: its connect and its reply are bounded by what is left (issue 56: --budget-s 30 ran to 42 s
// and 66 s, the budget looked at only between unit ids, each costing up to eight timeouts).
struct Reader {
  Reader(const Transport& t, std::chrono::milliseconds per_request, std::optional<Clock::time_point> until = std::nullopt)
      : link(t, per_request), timeout(per_request), deadline(until) {}
  ModbusLink link;
  std::chrono::milliseconds timeout;
  std::optional<Clock::time_point> deadline;
  int requests = 0;
  std::string last_error;
  std::vector<std::string> doubts;  // replies whose frames did not match their requests
  bool spent = false;  // the last request had less than a whole timeout left: no more after it
  bool out_of_time() const { return spent || (deadline && Clock::now() >= *deadline); }
  std::optional<std::uint16_t> read(int unit, std::uint16_t address, ReadResult* result = nullptr,
                                    RegisterSpace space = RegisterSpace::holding) {
    if (deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now());
      if (spent || left <= std::chrono::milliseconds(0)) {
        spent = true;
        last_error = "the time budget ran out";
        if (result) *result = {ReadStatus::timeout, 0, last_error};
        return std::nullopt;
      }
      // A reply of one register is at most 11 bytes: its first byte within two thirds of what is
      // left, each later part (at most ten) within a thirtieth: a dripping server too is done by
      // the deadline. A request cut short is the last: its no-answer says nothing of the device.
      const auto response = left * 2 / 3;
      spent = response < timeout;
      link.set_timeouts(std::min(timeout, response), std::min(std::chrono::milliseconds(500), left / 30));
    }
    if (!link.connected() && !link.connect(last_error)) {
      if (result) *result = {ReadStatus::link_error, 0, last_error};
      return std::nullopt;
    }
    std::uint16_t word = 0;
    ++requests;
    const ReadResult r = link.read_framed(unit, address, &word, space);
    if (result) *result = r;
    if (r.status != ReadStatus::ok) {
      last_error = r.error;
      if (r.error.find("does not match its request") != std::string::npos && doubts.size() < 8) doubts.push_back(r.error);
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
// Each answer is judged by the drivers' own table row for it (its plausible range; issue 56: a
// server that answers every register listed a 512 V system and a 512 °C battery): the VE.Bus
// DC voltage (26, uint16 scale 100 in attributes.csv) by the battery's 259 row, the same quantity.
struct ServiceProbe {
  const char* service;
  std::uint16_t address;
  const Table& (*table)();
  std::uint16_t row;  // the address of the row in `table` that judges it
};
constexpr std::array kServiceProbes{ServiceProbe{"battery", 259, victron::battery_table, 259},
                                    ServiceProbe{"solarcharger", 775, victron::solarcharger_table, 775},
                                    ServiceProbe{"temperature", 3304, victron::temperature_table, 3304},
                                    ServiceProbe{"vebus", 26, victron::battery_table, 259}};

// A register no GX map holds: attributes.csv, from which dbus-modbustcp builds its map, begins at
// address 3 in every generation, and an address its map lacks is answered 0x02 whatever the unit
// (mappings.cpp: StartAddressError; docs/registers.md §1.3). A server that answers it with a
// value does not follow the GX's rule, and nothing else it answers can be read by it.
constexpr std::uint16_t kNoGxRegister = 0;
// More services than any GX holds (it serves the devices on its VE.Bus, VE.Direct and VE.Can
// ports and its BMS: a few, a few dozen on a large site).
constexpr std::size_t kMaxServices = 100;

const Register* row_at(const Table& t, std::uint16_t address) {
  for (const Register& reg : t.registers) {
    if (reg.address == address) return &reg;
  }
  return nullptr;
}

// `word` as `table`'s row at `address` reads it; nullopt with `why` when its row finds it
// implausible, or it is the row's "not available".
std::optional<double> judged(const Table& table, std::uint16_t address, std::uint16_t word, std::string& why) {
  const Register* reg = row_at(table, address);
  if (!reg) return static_cast<double>(word);
  if (reg->not_available_raw && *reg->not_available_raw == word) {
    why = "not available";
    return std::nullopt;
  }
  const std::array<std::uint16_t, 1> words{word};
  const double v = decode(*reg, words);
  if (auto bad = check_plausible(*reg, v)) {
    why = std::move(*bad);
    return std::nullopt;
  }
  return v;
}

// The rest of what a found service says of itself, for people and for the devices: block; a
// value its row finds implausible is said so (`doubts`), never shown as a reading.
Found describe_found(Reader& r, int unit, const ServiceProbe& p, std::uint16_t word, std::vector<std::string>& doubts) {
  Found f;
  f.unit = unit;
  f.service = p.service;
  const auto shown = [&](const Table& table, std::uint16_t address, std::optional<std::uint16_t> w, const char* fmt_text,
                         const char* missing) -> std::string {
    if (!w) return missing;
    std::string why;
    const auto v = judged(table, address, *w, why);
    if (v) return fmt::format(fmt::runtime(fmt_text), *v);
    if (why == "not available") return missing;
    doubts.push_back(fmt::format("unit {}: register {}: {}: not taken", unit, address, why));
    return fmt::format("register {} implausible", address);
  };
  if (f.service == "battery") {
    const Table& t = victron::battery_table();
    const auto temp = r.read(unit, 262);
    const auto cvl = r.read(unit, 305);   // /Info/MaxChargeVoltage: never 0 on a BMS
    const auto ccl = r.read(unit, 307);   // /Info/MaxChargeCurrent: a BMS's charge limit (0 A on a cold cell)
    const auto cell = r.read(unit, 318);  // /System/MinCellTemperature
    f.bms = (cvl && *cvl != 0) || (ccl && *ccl != 0) || (cell && *cell != 0);
    f.detail = fmt::format("{:.2f} V, {}", word / 100.0, shown(t, 262, temp, "{:.1f} °C", "no temperature sensor"));
    if (f.bms) {
      if (cell && *cell != 0) f.detail += ", coldest cell " + shown(t, 318, cell, "{:.1f} °C", "-");
      if (ccl) f.detail += ", charge limit " + shown(t, 307, ccl, "{:.1f} A", "-");
    }
  } else if (f.service == "solarcharger") {
    f.detail = charge_state_name(word);
    if (const auto pv = r.read(unit, 776)) f.detail += ", PV " + shown(victron::solarcharger_table(), 776, pv, "{:.1f} V", "-");
  } else if (f.service == "temperature") {
    f.detail = fmt::format("{:.1f} °C", s16(word) / 100.0);
  } else {
    f.detail = fmt::format("{:.2f} V", word / 100.0);
    // Its nominal power: uint32, the high word first (docs/registers.md §1.1). A map before it
    // (0x02), 0 (not reported) or more than any inverter bank (10 MW) says nothing.
    const auto u32 = [&](std::uint16_t address) -> std::optional<double> {
      const auto hi = r.read(unit, address);
      const auto lo = hi ? r.read(unit, static_cast<std::uint16_t>(address + 1)) : std::nullopt;
      if (!hi || !lo) return std::nullopt;
      const double w = static_cast<double>((static_cast<std::uint32_t>(*hi) << 16) | *lo);
      if (w <= 0) return std::nullopt;
      if (w > 10e6) {
        doubts.push_back(fmt::format("unit {}: register {}: nominal inverter power {:.0f} W: not taken", unit, address, w));
        return std::nullopt;
      }
      return w;
    };
    f.nominal_w = u32(130);
    if (f.nominal_w) {
      for (std::size_t k = 0; k < f.nominal_phase_w.size(); ++k) f.nominal_phase_w[k] = u32(static_cast<std::uint16_t>(132 + 2 * k));
      f.detail += fmt::format(", nominal inverter power {:.0f} W", *f.nominal_w);
    }
  }
  return f;
}

// Every service of kServiceProbes at `unit` (a unit id may hold several: each service type
// numbers its device instances on its own, and unit 100 also reaches instance 0 of each).
// `absent`: the registers this GX's map does not have (0x02: no unit has them); `trouble`: why
// a request got no answer, for the report.
void classify(Reader& r, int unit, std::vector<Found>& out, std::array<bool, kServiceProbes.size()>& absent,
              std::string& trouble, std::vector<std::string>& doubts) {
  for (std::size_t i = 0; i < kServiceProbes.size(); ++i) {
    if (absent[i]) continue;
    const ServiceProbe& p = kServiceProbes[i];
    ReadResult res;
    if (const auto w = r.read(unit, p.address, &res)) {
      // The service's own register, judged by its row: one that reads nonsense is not a service.
      std::string why;
      if (!judged(p.table(), p.row, *w, why)) {
        doubts.push_back(fmt::format("unit {}: {}? register {} reads {}: {}: not taken", unit, p.service, p.address,
                                     *w, why));
        continue;
      }
      out.push_back(describe_found(r, unit, p, *w, doubts));
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
  Reader r(gx, timeout, deadline);
  const auto finish = [&] {
    out.requests = r.requests;
    for (auto& d : r.doubts) out.doubts.push_back(std::move(d));
    return out;
  };
  // Unit 100 first: the system service is on every GX, and it says at once whether one answers.
  ReadResult first;
  auto system_v = r.read(100, 840, &first);
  out.requests = r.requests;
  if (first.status == ReadStatus::timeout || first.status == ReadStatus::link_error) {
    out.error = r.last_error;
    return finish();
  }
  out.reached = true;
  // Does it follow the GX's rule? An address no map holds must be refused (0x02).
  ReadResult rule;
  if (const auto w = r.read(100, kNoGxRegister, &rule)) {
    out.doubts.push_back(fmt::format("unit 100 answers register {} ({}), which no GX serves (dbus-modbustcp answers "
                                     "0x02 for an address its map lacks): not a GX, or not one that follows its rule; "
                                     "nothing it answers is taken, and the scan stops",
                                     kNoGxRegister, *w));
    out.not_a_gx = true;
    return finish();
  }
  if (rule.status == ReadStatus::exception && rule.exception_code != 0x02) {
    out.doubts.push_back(fmt::format("unit 100 answers register {} with {} where a GX answers 0x02", kNoGxRegister,
                                     exception_name(rule.exception_code)));
  }
  if (system_v) {
    std::string why;
    if (const auto v = judged(victron::system_table(), 840, *system_v, why)) {
      out.units.push_back({100, "system", false, fmt::format("{:.1f} V", *v), std::nullopt, {}});
    } else {
      out.doubts.push_back(fmt::format("unit 100: system? register 840 reads {}: {}: not taken", *system_v, why));
      system_v.reset();
    }
  }
  std::array<bool, kServiceProbes.size()> absent{};
  std::string trouble;
  // Unit 100 first (the system's, and device instance 0 of every service), then 1-247.
  for (int unit = 0; unit <= 247; ++unit) {
    if (unit == 100) continue;
    const int u = unit == 0 ? 100 : unit;
    if (r.out_of_time()) {
      out.error = out.last_unit_scanned == 0
                      ? std::string("the time budget ran out at unit 100, before unit 1: pass --budget-s to scan further")
                      : fmt::format("the time budget ran out after unit {}: pass --budget-s to scan further",
                                    out.last_unit_scanned);
      break;
    }
    classify(r, u, out.units, absent, trouble, out.doubts);
    if (u != 100 && !r.out_of_time()) out.last_unit_scanned = u;
  }
  if (out.units.size() > kMaxServices) {
    out.doubts.push_back(fmt::format("{} services found: more than any GX holds (a server that answers every unit id?); "
                                     "none is taken",
                                     out.units.size()));
    out.not_a_gx = true;
    out.units.clear();
    return finish();
  }
  for (std::size_t i = 0; i < kServiceProbes.size(); ++i) {
    if (absent[i]) {
      out.map_notes.push_back(fmt::format("register {} ({}) is not in this GX's map (0x02): that service was not looked for",
                                          kServiceProbes[i].address, kServiceProbes[i].service));
    }
  }
  if (!trouble.empty() && out.error.empty()) out.error = "some requests got no answer (" + trouble + ")";
  // The register-map generation, from what the system and a solar charger serve
  // (dbus-modbustcp's history, docs/registers.md §1.9); not judged once the budget is spent.
  if (system_v && !r.out_of_time()) {
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
  return finish();
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
  // Its rated power: kellerza/sunsynk's RATED_POWER, registers 16-17 on the single-phase map
  // (definitions/single_phase.py), 20-21 on the three-phase one (three_phase_common.py), factor
  // 0.1 W; two registers are one unsigned 32-bit value, the low word first (sunsynk/helpers.py,
  // unpack_value: "All inverters are little-endian"; docs/registers.md §2.2). The family's
  // nameplate (kellerza names the inverter by it, "8kW Inverter"), not a continuous rating at the
  // site's temperature. 0, or more than any one inverter (1 MW), is not taken.
  out.rated_at = map == &solark::table() ? 16 : 20;
  const auto lo = r.read(unit, out.rated_at);
  const auto hi = lo ? r.read(unit, static_cast<std::uint16_t>(out.rated_at + 1)) : std::nullopt;
  if (!lo || !hi) {
    out.rated_note = "not served (" + (r.last_error.empty() ? std::string("no answer") : r.last_error) + ")";
  } else {
    const double w = static_cast<double>((static_cast<std::uint32_t>(*hi) << 16) | *lo) * 0.1;
    if (w <= 0) {
      out.rated_note = "reads 0: not reported";
    } else if (w > 1e6) {
      out.rated_note = fmt::format("reads {:.0f} W: not taken (no one inverter is rated above 1 MW)", w);
    } else {
      out.rated_w = w;
    }
  }
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
