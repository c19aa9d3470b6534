#pragma once
// `shackd probe`: what a GX serves on which unit id, and which register-map generation it runs;
// whether a Deye-family unit or an EG4 answers. Read-only (functions 3 and 4), bounded in time.
//
// On a GX, dbus-modbustcp answers a register whose *service type* has no service at that unit id
// with 0x0A (gateway path unavailable), and an address its map does not have with 0x02, at once
// (victronenergy/dbus_modbustcp mappings.cpp and backend.cpp; docs/registers.md §1.3). So each
// service is asked for by its own characteristic register at every unit id: a unit id with none
// costs one request per service looked for, and 0x0A never means "nothing at this unit id".
#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "drivers/modbus_link.hpp"

namespace drivers::probe {

struct Found {
  int unit = 0;
  std::string service;  // system, battery, solarcharger, temperature, vebus
  bool bms = false;     // a battery service that reports a charge current limit or cell temperatures
  std::string detail;   // "52.08 V, no temperature sensor"
  // A VE.Bus inverter's own nominal output power (attributes.csv: /Ac/Out/NominalInverterPower,
  // register 130, and per phase 132, 134, 136; uint32, W), where its GX's map serves it: a starting
  // point for ac_sources' continuous_w (issue 59). Per phase: missing where not served or 0.
  std::optional<double> nominal_w;
  std::array<std::optional<double>, 3> nominal_phase_w{};
};

struct GxReport {
  bool reached = false;     // the first request was answered (a value or an exception)
  std::string error;        // why not, or why the scan stopped early
  std::vector<Found> units;
  std::string map;          // "v1.0.95 or later", "v1.0.85 to v1.0.94", ...
  std::vector<std::string> map_notes;  // what this GX does not serve that shackd reads
  int requests = 0;
  int last_unit_scanned = 0;
  // What the probe doubts of what it was told (issue 56): a value its table row finds implausible,
  // a reply whose frame does not match its request, a server that answers where no GX does.
  std::vector<std::string> doubts;
  bool not_a_gx = false;  // it does not follow the GX's rule: nothing it answered is taken
};

// Scans unit 100 (the system, and instance 0 of each service), then 1..247, within `budget`: a
// hard deadline, each request's connect and reply bounded by what is left of it.
GxReport probe_gx(const TcpTransport& gx, std::chrono::milliseconds timeout, std::chrono::milliseconds budget);

struct SolarkReport {
  bool answered = false;
  std::string error;
  std::optional<double> battery_v, battery_temp_c, soc_pct;
  std::vector<std::string> problems;  // implausible values: a wrong unit id or another device
  // The Deye family's device type (register 0), what it names, and the devices: key that reads
  // it ("solark", "deye_3p"; empty: no shackd map fits it). Unset when register 0 is not served.
  std::optional<int> device_type;
  std::string family;
  std::string kind = "solark";
  // Its rated power, where it reports one (issue 59: the start of an AC source's rating): the
  // family's "Rated power", kellerza/sunsynk definitions/single_phase.py (registers 16-17) and
  // three_phase_common.py (20-21), W. Unset: not served, 0 or beyond 1 MW; `rated_note` says which.
  std::optional<double> rated_w;
  std::uint16_t rated_at = 16;
  std::string rated_note;
};

SolarkReport probe_solark(const Transport& t, int unit, std::chrono::milliseconds timeout);

// An EG4/Luxpower: its battery voltage, SOC and SOH (input registers 4 and 5, function 4) and its
// charging current (holding 101), by shackd's own tables (docs/registers.md §4).
struct Eg4Report {
  bool answered = false;
  std::string error;
  std::optional<double> battery_v, soc_pct, soh_pct, charge_current_a;
  std::vector<std::string> problems;  // implausible values: a wrong unit id or another device
};

Eg4Report probe_eg4(const Transport& t, int unit, std::chrono::milliseconds timeout);

}  // namespace drivers::probe
