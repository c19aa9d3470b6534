#include "daemon/cli/probe.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include <chrono>
#include <cstdlib>

#include "daemon/cli/cli_args.hpp"
#include "drivers/eg4.hpp"
#include "drivers/miners/identify.hpp"
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
  if (f.service == "vebus") return "VE.Bus inverter/charger";
  return f.service.c_str();
}

// A devices: block's lines for where a serial device is: a gateway's host and port, or the adapter.
std::string transport_lines(const drivers::Transport& t) {
  if (const auto* tcp = std::get_if<drivers::TcpTransport>(&t)) {
    return fmt::format("    transport: tcp\n    host: {}\n    port: {}\n", tcp->host, tcp->port);
  }
  return fmt::format("    transport: rtu\n    device: {}\n", std::get<drivers::RtuTransport>(t).device);
}

// The EG4's part of the output: what it says as comments, and its devices: lines (empty when it
// did not answer as an EG4).
std::string probe_eg4(const drivers::Transport& t, int unit, std::chrono::milliseconds timeout, bool& answered) {
  fmt::print("# the EG4 at {}, unit {}\n", drivers::describe(t), unit);
  const auto r = drivers::probe::probe_eg4(t, unit, timeout);
  if (!r.answered) {
    fmt::print("# no answer: {}\n#   (wiring A/B, 19200 8N1, the gateway's port and mode, the unit id; not the WiFi "
               "dongle's port 8000)\n",
               r.error);
    answered = false;
    return "";
  }
  const auto shown = [](const std::optional<double>& v, const char* unit_text) {
    return v ? fmt::format("{:.0f}{}", *v, unit_text) : std::string("not read");
  };
  fmt::print("#   battery {:.1f} V, SOC {}, SOH {}; charging current (hold 101) {}\n", *r.battery_v,
             shown(r.soc_pct, " %"), shown(r.soh_pct, " %"), shown(r.charge_current_a, " A"));
  for (const auto& p : r.problems) fmt::print("#   implausible: {} (another device on this unit id?)\n", p);
  if (!r.problems.empty()) answered = false;
  std::string block = "  eg4:\n    kind: eg4\n" + transport_lines(t) + fmt::format("    unit: {}\n", unit);
  if (r.charge_current_a && *r.charge_current_a > 0) {
    block += fmt::format("    max_charge_a: {:.0f}   # put back after a cold block (eg4 in safety.charge_block_action)\n",
                         *r.charge_current_a);
  }
  return block;
}

// A miner: which firmware answers, what it says, and its miners: block (comments and all, so
// that it pastes). Its password, where its reads need one, comes from SHACKD_MINER_PASSWORD: never
// on a command line, which every user of the machine can read.
std::string probe_miner(const drivers::TcpTransport& t, bool port_given, std::chrono::milliseconds timeout, bool& answered) {
  const char* pw = std::getenv("SHACKD_MINER_PASSWORD");
  fmt::print("# the miner at {}: asking LuxOS, Whatsminer (API v3 and v2) and Braiins OS (read-only)\n", t.host);
  const auto r = drivers::miners::identify_miner(t.host, port_given ? t.port : 0, pw ? pw : "", timeout);
  if (!r.kind) {
    fmt::print("# no miner API answered: {}\n#   (its address, its API enabled: docs/guide.md, \"Miners through their own API\")\n",
               r.tried);
    answered = false;
    return "";
  }
  const auto& m = r.telemetry;
  if (r.needs_password) {
    fmt::print("# {} on port {}: it asks for its password (set SHACKD_MINER_PASSWORD and probe again for its range)\n",
               r.kind->label, r.port);
  } else {
    const auto shown = [](const std::optional<double>& v, const char* fmt_text) {
      return v ? fmt::format(fmt::runtime(fmt_text), *v) : std::string("-");
    };
    fmt::print("# {} on port {}: {}, {}, {}, {}, hottest {}\n", r.kind->label, r.port, m.firmware.empty() ? "?" : m.firmware,
               drivers::miners::state_name(m.state), shown(m.power_w, "{:.0f} W"), shown(m.hashrate_ths, "{:.1f} TH/s"),
               shown(m.max_temp_c, "{:.0f} °C"));
  }
  std::string block = fmt::format("miners:\n  your_relay_id:              # the relay id of its profile (relays:)\n    kind: {}\n    host: {}\n",
                                  r.kind->key, t.host);
  if (r.port != r.kind->port) block += fmt::format("    port: {}\n", r.port);
  if (r.kind->needs_password || r.needs_password || (r.kind->takes_power_target && pw && *pw)) {
    block += "    password: CHANGE-ME             # " + std::string(r.kind->setup) + "\n";
  }
  if (r.range && r.kind->target_percent) {
    // A percent of its rated power: the block names it, and a floor of about a third (the firmware
    // takes 0-100 %; below min_w shackd stops it instead).
    const double rated = r.range->max_w;
    const double step = std::max(100.0, std::ceil(rated / 100));
    fmt::print("# its power targets: 0-100 % of {:.0f} W (its power limit as it reports it)\n", rated);
    block += fmt::format("    # to follow the surplus (docs/guide.md, \"Following the surplus\"):\n"
                         "    # target: {{min_w: {:.0f}, max_w: {:.0f}, step_w: {:.0f}, rated_w: {:.0f}}}\n",
                         std::max(100.0, std::round(rated / 300) * 100), rated, step, rated);
  } else if (r.range) {
    // LuxOS's middle figure is the target it runs to (atm PowerTarget), Braiins OS's its default.
    fmt::print("# its power targets: {:.0f}-{:.0f} W ({} {:.0f} W)\n", r.range->min_w, r.range->max_w,
               r.kind->firmware_mark.empty() ? "default" : "now", r.range->default_w);
    block += fmt::format("    # to follow the surplus (docs/guide.md, \"Following the surplus\"):\n"
                         "    # target: {{min_w: {:.0f}, max_w: {:.0f}, step_w: 100}}\n",
                         r.range->min_w, r.range->max_w);
  } else if (r.kind->takes_power_target && (r.needs_password || !r.kind->firmware_mark.empty())) {
    // A login it asked for, or a LuxOS model that says no range (not in power-targeting mode).
    block += r.needs_password ? "    # target: {min_w: ..., max_w: ...}   # its range: probe with SHACKD_MINER_PASSWORD set\n"
                              : "    # no target: its atm reply has no PowerTarget (not in a power-targeting mode)\n";
  } else if (r.kind->takes_power_target) {
    block += "    # target: {min_w: ..., max_w: ...}   # its range was not read\n";
  }
  return block;
}

}  // namespace

int cmd_probe(const std::vector<std::string>& argv) {
  if (!argv.empty() && argv[0] == "--help") {
    fmt::print(
        "usage: shackd probe [--victron HOST[:PORT]] [--solark HOST[:PORT] | --solark-rtu DEVICE]\n"
        "                    [--solark-unit N] [--eg4 HOST[:PORT] | --eg4-rtu DEVICE] [--eg4-unit N]\n"
        "                    [--miner HOST[:PORT]] [--timeout-ms MS] [--budget-s S]\n"
        "  (--deye and --deye-rtu are the same as --solark and --solark-rtu: any Deye-family unit)\n"
        "  Finds which unit id serves each GX service shackd reads (system, battery monitor or BMS,\n"
        "  solar chargers, temperature sensors, VE.Bus), asking each unit id for each service by its own\n"
        "  register (a GX answers 0x0A for a service it lacks at that unit id, whatever else is there),\n"
        "  which Modbus map generation the GX serves, and\n"
        "  whether a Sol-Ark answers with plausible values; which Deye family a Deye/Sunsynk/Sol-Ark unit\n"
        "  is (its device type, register 0); whether an EG4/Luxpower answers (19200 8N1 on RS485);\n"
        "  prints a devices: block for the config. --miner: which miner firmware answers (LuxOS, Whatsminer\n"
        "  API v3 or v2, Braiins OS), what it says of itself and its power target range; prints a miners: block (a\n"
        "  Braiins OS password, where its reads need one: the environment's SHACKD_MINER_PASSWORD).\n"
        "  Read-only (functions 3 and 4), bounded: the GX scan stops after --budget-s (default 60).\n"
        "  Exit 0 when every device asked for answered, 69 when one did not, 64 on a usage error.\n");
    return kExOk;
  }
  Args a;
  drivers::TcpTransport gx;
  drivers::Transport solark, eg4;
  bool want_gx = false, want_solark = false, want_eg4 = false, want_miner = false, miner_port = false;
  drivers::TcpTransport miner;
  int eg4_unit = 1;
  std::chrono::milliseconds timeout{1000}, budget{60000};
  int solark_unit = 1;
  try {
    a = parse_args("probe", argv,
                   {"--victron", "--solark", "--solark-rtu", "--deye", "--deye-rtu", "--solark-unit", "--eg4", "--eg4-rtu",
                    "--eg4-unit", "--miner", "--timeout-ms", "--budget-s"},
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
    if (a.values.count("--eg4") && a.values.count("--eg4-rtu")) throw UsageError("probe: --eg4 and --eg4-rtu: give one");
    if (a.values.count("--eg4")) eg4 = host_port("--eg4", a.get("--eg4", "")), want_eg4 = true;
    if (a.values.count("--eg4-rtu")) {
      // Its serial line's own speed (drivers/eg4.cpp), not the Sol-Ark's 9600.
      eg4 = drivers::RtuTransport{a.get("--eg4-rtu", ""), drivers::eg4::kind().baud}, want_eg4 = true;
    }
    eg4_unit = a.get_int("--eg4-unit", 1, 1, 247);
    timeout = std::chrono::milliseconds(a.get_int("--timeout-ms", 1000, 50, 30000));
    budget = std::chrono::seconds(a.get_int("--budget-s", 60, 1, 3600));
    if (a.values.count("--miner")) {
      miner = host_port("--miner", a.get("--miner", ""));
      miner_port = a.get("--miner", "").find(':') != std::string::npos;
      want_miner = true;
    }
    if (!want_gx && !want_solark && !want_eg4 && !want_miner) {
      throw UsageError(
          "probe: give --victron HOST, --solark HOST, --solark-rtu DEVICE, --eg4 HOST, --eg4-rtu DEVICE or --miner HOST");
    }
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
    // What it doubts first: a reply it did not take is no finding (issue 56).
    for (const auto& d : r.doubts) fmt::print("# doubted: {}\n", d);
    if (!r.doubts.empty()) all_answered = false;
    if (!r.reached) {
      fmt::print("# no answer from the GX: {}\n#   (is Modbus TCP enabled: Settings > Services > Modbus TCP?)\n", r.error);
      all_answered = false;
    } else if (r.not_a_gx) {
      fmt::print("# not taken as a GX: no devices: lines for it ({} requests)\n", r.requests);
      all_answered = false;
    } else {
      const drivers::probe::Found* battery = nullptr;
      std::vector<int> chargers, vebus, temperatures, batteries;
      bool system = false;
      for (const auto& f : r.units) {
        fmt::print("#   unit {:3}: {}: {}\n", f.unit, service_label(f), f.detail);
        if (f.service == "system") system = true;
        if (f.service == "battery") {
          batteries.push_back(f.unit);
          if (!battery || (f.bms && !battery->bms)) battery = &f;
        }
        if (f.service == "solarcharger") chargers.push_back(f.unit);
        if (f.service == "temperature") temperatures.push_back(f.unit);
        if (f.service == "vebus") vebus.push_back(f.unit);
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
      const auto list = [](const std::vector<int>& units) {
        std::string t;
        for (std::size_t i = 0; i < units.size(); ++i) t += (i ? ", " : "") + std::to_string(units[i]);
        return t;
      };
      block += battery ? fmt::format("    battery_unit: {}\n", battery->unit) : "    battery_unit: null   # none found\n";
      if (batteries.size() > 1) {
        block += fmt::format("    # battery services on units {}: shackd reads one (a BMS before a monitor)\n", list(batteries));
      }
      if (!chargers.empty()) block += "    charger_units: [" + list(chargers) + "]\n";
      if (!temperatures.empty()) block += fmt::format("    temperature_unit: {}\n", temperatures.front());
      if (temperatures.size() > 1) {
        block += fmt::format("    # temperature services on units {}: shackd reads one; give the one that "
                             "measures the battery\n", list(temperatures));
      }
      // Its output per phase and its own overload words: the AC source's inputs (issue 59).
      if (!vebus.empty()) block += fmt::format("    vebus_unit: {}\n", vebus.front());
      // Its own nominal power, where it reports it: the start of an AC source's rating (issue 59).
      for (const auto& f : r.units) {
        if (f.service != "vebus" || f.unit != (vebus.empty() ? -1 : vebus.front()) || !f.nominal_w) continue;
        std::string phases;
        int n = 0;
        for (std::size_t k = 0; k < f.nominal_phase_w.size(); ++k) {
          if (!f.nominal_phase_w[k]) continue;
          phases += fmt::format("{}L{} {:.0f} W", n++ ? ", " : "", k + 1, *f.nominal_phase_w[k]);
        }
        const double per_phase_w = n > 1 ? f.nominal_phase_w[0].value_or(*f.nominal_w / n) : *f.nominal_w;
        block += fmt::format("    # its nominal inverter power: {:.0f} W{}; for the AC budget (top level, beside devices:):\n",
                             *f.nominal_w, phases.empty() ? "" : " (" + phases + ")");
        block += "    #   ac_sources:\n    #     inverter:\n";
        if (n > 1) block += fmt::format("    #       phases: {}\n", n);
        block += fmt::format("    #       continuous_w: {:.0f}{}\n", per_phase_w, n > 1 ? "   # per phase" : "");
        // A configured source reads only what it names (config_keys.cpp): its output and words.
        block += "    #       overload: [vebus.overload]\n";
        for (int k = 1; k <= std::max(1, n); ++k) {
          block += fmt::format("    #       load_w_l{0}: [vebus.ac_out_l{0}_w]\n    #       overload_l{0}: [vebus.overload_l{0}]\n", k);
        }
        block += "    #   (where its datasheet's continuous rating at the site's temperature is lower, give that)\n";
      }
      if (vebus.size() > 1) {
        block += fmt::format("    # VE.Bus services on units {}: shackd reads one; give the inverter that feeds the "
                             "loads\n", list(vebus));
      }
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
      const std::string rated_regs = fmt::format("registers {}-{}", r.rated_at, r.rated_at + 1);
      if (r.rated_w) {
        fmt::print("#   rated power {:.0f} W ({}: the model's nameplate)\n", *r.rated_w, rated_regs);
      } else {
        fmt::print("#   rated power: {} ({})\n", r.rated_note, rated_regs);
      }
      // Named after its kind; a second one of the kind takes a name of the owner's (solark_b).
      block += "  " + r.kind + ":\n    kind: " + r.kind + "\n" + transport_lines(solark);
      block += fmt::format("    unit: {}\n", solark_unit);
      // Its rated power as an AC source's rating (issue 59), the whole unit: its load legs summed
      // into one phase (the map gives no leg's own limit). A configured source reads only what it
      // names (config_keys.cpp): its load per leg, no overload word (docs/registers.md §2.3).
      if (r.rated_w) {
        const int legs = r.kind == "solark" ? 2 : 3;
        std::string loads;
        for (int k = 1; k <= legs; ++k) loads += fmt::format("{}{}.load_l{}_w", k > 1 ? ", " : "", r.kind, k);
        block += fmt::format("    # its rated power: {:.0f} W; for the AC budget (top level, beside devices:):\n", *r.rated_w);
        block += "    #   ac_sources:\n    #     inverter:\n";
        block += fmt::format("    #       continuous_w: {:.0f}\n", *r.rated_w);
        block += fmt::format("    #       load_w_l1: [{}]\n", loads);
        block += "    #   (the nameplate, every leg together: where its datasheet's continuous output at the site's\n"
                 "    #   temperature is lower, give that; where it limits each leg, give phases and each leg's)\n";
      }
    }
  }
  if (want_eg4) block += probe_eg4(eg4, eg4_unit, timeout, all_answered);
  const std::string miner_block = want_miner ? probe_miner(miner, miner_port, timeout, all_answered) : "";
  if (block != "devices:\n") fmt::print("{}", block);
  fmt::print("{}", miner_block);
  return all_answered ? kExOk : kExUnavailable;
}

}  // namespace shackd
