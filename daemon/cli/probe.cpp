#include "daemon/cli/probe.hpp"

#include <fmt/format.h>

#include <chrono>

#include "daemon/cli/cli_args.hpp"
#include "drivers/probe.hpp"

namespace shackd {

namespace {

// "HOST" or "HOST:PORT" (port 502 by default). Throws UsageError naming the option.
drivers::TcpTransport host_port(const std::string& option, const std::string& text) {
  drivers::TcpTransport t;
  const auto colon = text.rfind(':');
  t.host = text.substr(0, colon);
  if (colon != std::string::npos) {
    const std::string port = text.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) < 1 || std::stoi(port) > 65535) {
      throw UsageError(fmt::format("{} '{}': the port must be 1 to 65535", option, text));
    }
    t.port = std::stoi(port);
  }
  if (t.host.empty()) throw UsageError(fmt::format("{} '{}': no host", option, text));
  return t;
}

const char* service_label(const drivers::probe::Found& f) {
  if (f.service == "battery") return f.bms ? "battery (a BMS)" : "battery monitor";
  if (f.service == "solarcharger") return "solar charger";
  if (f.service == "temperature") return "temperature sensor";
  if (f.service == "vebus") return "VE.Bus inverter/charger (not read by shackd)";
  return f.service.c_str();
}

}  // namespace

int cmd_probe(const std::vector<std::string>& argv) {
  if (!argv.empty() && argv[0] == "--help") {
    fmt::print(
        "usage: shackd probe [--victron HOST[:PORT]] [--solark HOST[:PORT] | --solark-rtu DEVICE]\n"
        "                    [--solark-unit N] [--timeout-ms MS] [--budget-s S]\n"
        "  (--deye and --deye-rtu are the same as --solark and --solark-rtu: any Deye-family unit)\n"
        "  Finds which unit id serves each GX service shackd reads (system, battery monitor or BMS,\n"
        "  solar chargers, temperature sensors, VE.Bus), which Modbus map generation the GX serves, and\n"
        "  whether a Sol-Ark answers with plausible values; which Deye family a Deye/Sunsynk/Sol-Ark unit\n"
        "  is (its device type, register 0); prints a devices: block for the config.\n"
        "  Read-only (function 3), bounded: the GX scan stops after --budget-s (default 60).\n"
        "  Exit 0 when every device asked for answered, 69 when one did not, 64 on a usage error.\n");
    return kExOk;
  }
  Args a;
  drivers::TcpTransport gx;
  drivers::Transport solark;
  bool want_gx = false, want_solark = false;
  std::chrono::milliseconds timeout{1000}, budget{60000};
  int solark_unit = 1;
  try {
    a = parse_args("probe", argv,
                   {"--victron", "--solark", "--solark-rtu", "--deye", "--deye-rtu", "--solark-unit", "--timeout-ms",
                    "--budget-s"},
                   {});
    // Any Deye-family unit: the device type says which map reads it (docs/registers.md §2.9).
    for (const auto& [alias, name] : {std::pair{"--deye", "--solark"}, std::pair{"--deye-rtu", "--solark-rtu"}}) {
      if (!a.values.count(alias)) continue;
      if (a.values.count(name)) throw UsageError(fmt::format("probe: {} and {}: give one", alias, name));
      a.values[name] = a.values[alias];
    }
    if (a.values.count("--victron")) gx = host_port("--victron", a.get("--victron", "")), want_gx = true;
    if (a.values.count("--solark") && a.values.count("--solark-rtu")) {
      throw UsageError("probe: --solark and --solark-rtu (or --deye and --deye-rtu): give one");
    }
    if (a.values.count("--solark")) solark = host_port("--solark", a.get("--solark", "")), want_solark = true;
    if (a.values.count("--solark-rtu")) solark = drivers::RtuTransport{a.get("--solark-rtu", "")}, want_solark = true;
    solark_unit = a.get_int("--solark-unit", 1, 1, 247);
    timeout = std::chrono::milliseconds(a.get_int("--timeout-ms", 1000, 50, 30000));
    budget = std::chrono::seconds(a.get_int("--budget-s", 60, 1, 3600));
    if (!want_gx && !want_solark) throw UsageError("probe: give --victron HOST, --solark HOST or --solark-rtu DEVICE");
  } catch (const UsageError& e) {
    fmt::print(stderr, "{}\n", e.what());
    return kExUsage;
  }

  // Everything but the devices: block is a YAML comment, so the whole output can be pasted.
  bool all_answered = true;
  std::string block = "devices:\n";
  if (want_gx) {
    fmt::print("# the GX at {}:{}: scanning unit ids 100 and 1-247 (read-only)\n", gx.host, gx.port);
    const auto r = drivers::probe::probe_gx(gx, timeout, budget);
    if (!r.reached) {
      fmt::print("# no answer from the GX: {}\n#   (is Modbus TCP enabled: Settings > Services > Modbus TCP?)\n", r.error);
      all_answered = false;
    } else {
      const drivers::probe::Found* battery = nullptr;
      std::vector<int> chargers;
      const drivers::probe::Found* temperature = nullptr;
      bool system = false;
      for (const auto& f : r.units) {
        fmt::print("#   unit {:3}: {}: {}\n", f.unit, service_label(f), f.detail);
        if (f.service == "system") system = true;
        if (f.service == "battery" && (!battery || (f.bms && !battery->bms))) battery = &f;
        if (f.service == "solarcharger") chargers.push_back(f.unit);
        if (f.service == "temperature" && !temperature) temperature = &f;
      }
      if (!system) {
        fmt::print("#   unit 100 does not serve the system registers: not a GX, or its Modbus TCP is off\n");
        all_answered = false;
      }
      if (!r.map.empty()) fmt::print("# its Modbus map: dbus-modbustcp {}\n", r.map);
      for (const auto& n : r.map_notes) fmt::print("#   {}\n", n);
      if (!r.error.empty()) fmt::print("# {}\n", r.error);
      fmt::print("# {} requests\n", r.requests);
      block += fmt::format("  victron:\n    kind: victron\n    host: {}\n    port: {}\n", gx.host, gx.port);
      block += battery ? fmt::format("    battery_unit: {}\n", battery->unit) : "    battery_unit: null   # none found\n";
      if (!chargers.empty()) {
        block += "    charger_units: [";
        for (std::size_t i = 0; i < chargers.size(); ++i) block += (i ? ", " : "") + std::to_string(chargers[i]);
        block += "]\n";
      }
      if (temperature) block += fmt::format("    temperature_unit: {}\n", temperature->unit);
    }
  }
  if (want_solark) {
    fmt::print("# the Sol-Ark at {}, unit {}\n", drivers::describe(solark), solark_unit);
    const auto r = drivers::probe::probe_solark(solark, solark_unit, timeout);
    if (!r.answered) {
      fmt::print("# no answer: {}\n#   (wiring A/B, 9600 8N1, the gateway's port and mode, the unit id)\n", r.error);
      all_answered = false;
    } else if (r.kind.empty()) {
      fmt::print("#   device type 0x{:04X}: {}, which no shackd map reads (docs/registers.md §2.9)\n", *r.device_type,
                 r.family);
      all_answered = false;
    } else {
      if (r.device_type) fmt::print("#   device type 0x{:04X}: {}\n", *r.device_type, r.family);
      fmt::print("#   battery {:.2f} V, {:.1f} °C, SOC {:.0f} %\n", r.battery_v.value_or(0), r.battery_temp_c.value_or(0),
                 r.soc_pct.value_or(0));
      for (const auto& p : r.problems) fmt::print("#   implausible: {} (another device on this unit id?)\n", p);
      if (!r.problems.empty()) all_answered = false;
      // Named after its kind; a second one of the kind takes a name of the owner's (solark_b).
      block += "  " + r.kind + ":\n    kind: " + r.kind + "\n";
      if (const auto* tcp = std::get_if<drivers::TcpTransport>(&solark)) {
        block += fmt::format("    transport: tcp\n    host: {}\n    port: {}\n", tcp->host, tcp->port);
      } else {
        block += fmt::format("    transport: rtu\n    device: {}\n", std::get<drivers::RtuTransport>(solark).device);
      }
      block += fmt::format("    unit: {}\n", solark_unit);
    }
  }
  if (block != "devices:\n") fmt::print("{}", block);
  return all_answered ? kExOk : kExUnavailable;
}

}  // namespace shackd
