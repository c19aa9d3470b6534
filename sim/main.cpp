// shackd-sim: a simulated Solar Shack on loopback. It serves the Victron GX (system, battery
// monitor, solar charger and temperature units), the Sol-Ark and any other device of a kind
// shackd knows (--device, from that kind's tables) over Modbus TCP, from one physical model,
// driven by a scenario file and by commands on standard input.
#include <fmt/format.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <deque>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <poll.h>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "drivers/kinds.hpp"
#include "drivers/solark.hpp"
#include "drivers/victron_gx.hpp"
#include "sim/kind_units.hpp"
#include "sim/miner_server.hpp"
#include "sim/model.hpp"
#include "sim/mqtt_site.hpp"
#include "sim/server.hpp"
#include "sim/site_from.hpp"
#include "sim/solark_map.hpp"

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

constexpr const char* kUsage = R"(usage: shackd-sim [options]
Serves a simulated site over Modbus TCP: a Victron GX and a Sol-Ark, from one physical model.
Prints "ready victron=HOST:PORT solark=HOST:PORT" once both listen, then reads commands on stdin.

options:
  --bind ADDR             listen address (default 127.0.0.1)
  --victron-port N        GX port (default 5020, with --site-from any free port; 0 = any free port)
  --solark-port N         Sol-Ark gateway port (default 5021; 0 = any free port)
  --battery-unit N        battery monitor unit id (default 225)
  --charger-unit N        solar charger unit id (default 226)
  --more-charger-unit N   another solar charger on unit N (repeat)
  --vebus-unit N          a VE.Bus inverter/charger on unit N (default none)
  --temperature-unit N    temperature service unit id (default 24)
  --solark-unit N         Sol-Ark unit id (default 1)
  --device NAME=KIND:PORT one more device of any kind shackd knows (victron, solark, deye_3p,
                          eg4), served from that kind's own tables at its default unit ids, its
                          charge limits writable; repeatable (two inverters: --device
                          solark_a=solark:5031 --device solark_b=solark:5032); PORT 0 = any free
                          port. It is listed in the ready line and takes `fault NAME ...`. The
                          Sol-Ark and each --device of its kind are in parallel on the bank: each
                          reports its equal share of their PV, load and battery current; a charge
                          limit on any inverter holds the inverters' PV back
  --gx-firmware VER       serve the GX map of dbus-modbustcp VER (default: the newest); older ones
                          refuse (0x02) what they lack: <1.0.95 the reserved 847-864 holes,
                          <1.0.85 884-913, <1.0.78 solar charger 792/793
  --no-battery-temp-sensor  the battery monitor has no temperature sensor: 262 reads 0
  --bms-min-cell-c C      the battery service is a BMS reporting its coldest cell (318)
  --absorption-v V        a full battery at or above V: the chargers hold PV back (float, limited)
  --scenario FILE         CSV time series: t_s,battery_v,pv_w,house_w,battery_temp_c,zone.<name>
  --speed X               scenario seconds per real second (default 1)
  --repeat-s S            play the scenario again every S scenario seconds (86400: daily; soak)
  --battery-v V           rest voltage (default 52.0)
  --capacity-wh W         integrate energy into the state of charge (default 0: voltage as set)
  --soc PCT               the state of charge to start from, with --capacity-wh (default 65)
  --internal-ohm R        battery internal resistance for the I x R sag (default 0.01)
  --pv-w W  --house-w W   PV and house load (defaults 0 and 500)
  --inverter-w W          the inverter's continuous rating: above it its VE.Bus overload word reads
                          1, and after --inverter-trip-s S (default 10) 2 and it trips: its output
                          off, a power cut of 60 s for the relays (the simulator's own assumption,
                          not a Multi's documented curve; sim/model.hpp)
  --inverter-phases N     2: a split-phase inverter (L1, L2), 3: three-phase (default 1). Each leg
                          has the --inverter-w rating, its output (vebus 23-25, system 817-819)
                          and overload word (46, 50, 54); either leg above its rating for
                          --inverter-trip-s trips the whole output (the simulator's assumption)
  --load-phase NAME=N     load NAME is on leg N (default 1; repeat)
  --house-share F1,F2[,F3]  the house load's shares of the legs (default all on L1)
  --victron-pv-share F    share of PV on the GX's MPPTs (default 0.5)
  --load NAME=WATTS       a switched load (repeat); `load NAME on|off` switches it
  --mqtt URI              also answer on MQTT: loads as Tasmota relays, zones as Tasmota sensors
  --tasmota-relay NAME=TOPIC    load NAME answers cmnd/TOPIC/POWER1 (repeat)
  --metered-relay NAME          that relay also reports the load's power (tele/TOPIC/SENSOR
                                ENERGY.Power, every sensor period; repeat)
  --tasmota-sensor ZONE=TOPIC   zone ZONE's temperature on tele/TOPIC/SENSOR (repeat)
  --relay-power-on LOAD=SETTING  load LOAD's relay powers up by SETTING after a cut (`power_cut`):
                          Tasmota PowerOnState 0-5 (default 3, the last saved state); Shelly Gen2
                          initial_state off|on|restore_last|match_input (default off); asked and
                          set over MQTT as the firmware is (repeat)
  --sensor-period S       seconds between sensor messages (default 10)
  --miner LOAD=KIND:PORT  load LOAD is a miner whose firmware's API answers on PORT (0: any):
                          luxos, whatsminer, whatsminer_v2 or braiins; powered by its load's
                          relay, its draw the load's (its --load watts its nominal, and a
                          Whatsminer's rated power); password sim-secret
  --miner-boot-s S        a miner's boot after power on (default 90), its ramp 4/3 of it
  --miner-wind-down-s S   from an accepted sleep to its idle draw (default 0: at once)
  --site-from CONFIG      serve the owner's own site from their shackd config: each device of
                          theirs (kind, unit ids) on a free loopback port, each miner's API, each
                          relay in its protocol (tasmota, shelly_gen1, shelly_gen2, esphome,
                          generic) and each sensor in its format, on their broker with their
                          credentials. A load draws its profile's power_w (heater_power_w), else
                          1000 W (--load RELAY_ID=WATTS sets it); a sensor's zone is its id
                          (`set zone.SENSOR_ID C`). Needs --write-config
  --write-config FILE     with --site-from: the trial config for `shackd run --config FILE`, its
                          database beside it (FILE.db); relay and sensor topics under shackd-try,
                          so that a trial never switches a real relay

commands:
  set battery_v|pv_w|house_w|battery_temp_c|internal_ohm|soc_pct VALUE
  set battery_temp_sensor 0|1   set temperature_status N (3305: 1 open, 2 short)
  set bms_min_cell_c CELSIUS (a BMS's coldest cell, reg 318)
  set absorption_v V  set taper_a A   (a full battery: chargers hold PV back to the loads + taper)
  set bms_max_charge_a A  set bms_cold_cutoff_c C   (the BMS's limit 307 when warm; 0 below the cutoff)
  bms_alarm NAME 0|1|2    a BMS alarm by its register's name (low_voltage, low_cell_voltage, ...)
  charger_fault 0|1       the GX solar charger reports state 2 (fault)
  solark_fault F on|off   Sol-Ark fault code F (1-64) in fault words 103-106
  set zone.NAME CELSIUS
  load NAME on|off        load NAME WATTS
  generator on|off [CHARGE_W]  a generator on the inverter's AC input starts (826 = 2, 823 its
                          output: the AC load plus CHARGE_W its charger takes, default 0) or stops
  set generator_w W       the generator's continuous rating: status counts its time above it
  fault victron|solark offline|online|slow MS|exception CODE [UNIT]|garbage|idle-close S|clear
  relay LOAD mute|stuck|ok   (mute: never answers; stuck: ignores commands, reports its real state)
  power_cut [SECONDS]     the site's power goes (each relay offline, its load drawing nothing) and
                          comes back SECONDS later (default at once): each relay started anew (its
                          uptime from 0), up as its power-on setting says (printed: "relay LOAD
                          powered up ON|OFF ...")
  relay_power_on LOAD     prints the relay's power-on setting as it holds it now
  miner LOAD extra_c C    its chips run C °C hotter (a hot room, a blocked intake)
  miner LOAD api dead|ok  its API stops (or starts again) answering, the miner hashing on
  miner LOAD target ignore|follow   it takes target writes and draws as before (or follows them)
  status                  one line with the model's state, request counts and the chargers' limits
                          (dvcc: GX 2705, -1 none; solark_max_charge_a: Sol-Ark 210, FC16 only)
                          (with --inverter-phases 2 or 3 also each leg's load_w_lN and overload_lN,
                          and tripped_phase: the leg that tripped it, 0 none)
  mark, latency           time from the first GX request after `mark` to the first relay command
  quit
)";

struct Options {
  std::string mqtt;
  drivers::mqtt::ClientConfig mqtt_client;
  std::map<std::string, std::string> relays, sensors;  // --tasmota-relay, --tasmota-sensor
  std::set<std::string> metered;
  std::map<std::string, std::string> power_on;  // --relay-power-on
  std::vector<sim::MqttSite::Relay> site_relays;    // --site-from
  std::vector<sim::MqttSite::Sensor> site_sensors;  // --site-from
  std::string site_from, write_config;
  int system_unit = 100;
  int vebus_unit = 0;  // none
  std::vector<int> more_chargers;  // --site-from: a GX's chargers after the first
  double sensor_period_s = 10;
  std::string bind = "127.0.0.1";
  int victron_port = 5020, solark_port = 5021;
  bool ports_given = false;  // --site-from serves on free ports unless told
  int battery_unit = 225, charger_unit = 226, temperature_unit = 24, solark_unit = 1;
  struct Device {
    std::string name;
    const drivers::DeviceKind* kind = nullptr;
    int port = 0;
    sim::UnitIds ids = {};  // --site-from: the owner's unit ids
  };
  std::vector<Device> devices;  // --device
  std::string scenario;
  sim::GxMap gx_map;
  double speed = 1;
  double repeat_s = 0;
  struct Miner {
    std::string load;
    const drivers::miners::MinerKind* kind = nullptr;
    int port = 0;
  };
  std::vector<Miner> miners;  // --miner
  double miner_boot_s = 90;
  double miner_wind_down_s = 0;
  std::map<std::string, int> load_phase;  // --load-phase, applied once every load is known
};

double number(const std::string& s, const std::string& what) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != s.size() || s.empty()) throw std::runtime_error(what + ": '" + s + "' is not a number");
  return v;
}

int integer(const std::string& s, const std::string& what) {
  const double v = number(s, what);
  if (v != static_cast<int>(v)) throw std::runtime_error(what + ": '" + s + "' is not a whole number");
  return static_cast<int>(v);
}

// --site-from: the owner's devices, loads and miners into the options (their MQTT side is read
// from the trial config once the ports are known). A device of the GX's or the Sol-Ark's kind is
// served by the simulator's own GX or Sol-Ark (the first of each), the rest as --device would.
void take_owner_site(Options& o, sim::SiteModel& model, const sim::OwnerSite& site,
                     std::map<std::string, std::string>& served_as) {
  const auto first = [](const std::vector<int>& ids, int fallback) { return ids.empty() ? fallback : ids.front(); };
  bool gx = false, solark = false;
  for (const auto& d : site.config.devices) {
    const auto& ids = d.unit_ids;
    const auto slot = [&](std::size_t i) { return i < ids.size() ? ids[i] : std::vector<int>{}; };
    if (!gx && d.kind->key == drivers::victron::kind().key) {
      gx = true;
      served_as[d.name] = "victron";
      o.system_unit = first(slot(0), 100);
      o.battery_unit = first(slot(1), o.battery_unit);
      const auto chargers = slot(2);
      o.charger_unit = first(chargers, o.charger_unit);
      if (chargers.size() > 1) o.more_chargers.assign(chargers.begin() + 1, chargers.end());
      o.temperature_unit = first(slot(3), o.temperature_unit);
    } else if (!solark && d.kind->key == drivers::solark::kind().key) {
      solark = true;
      served_as[d.name] = "solark";
      o.solark_unit = first(slot(0), o.solark_unit);
    } else {
      served_as[d.name] = d.name;
      o.devices.push_back({d.name, d.kind, 0, ids});
    }
  }
  for (const auto& [relay, w] : site.load_w) {
    if (!model.loads.count(relay)) model.loads[relay] = {w, false};  // a --load given keeps its watts
  }
  for (const auto& m : site.config.miners) o.miners.push_back({m.load_id, m.kind, 0});
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  sim::SiteModel model;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--help") {
        fmt::print("{}", kUsage);
        return 0;
      }
      if (a == "--no-battery-temp-sensor") {
        model.battery_temp_sensor = false;
        continue;
      }
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value (see --help)");
      const std::string v = argv[++i];
      if (a == "--bind") o.bind = v;
      else if (a == "--victron-port") o.victron_port = integer(v, a), o.ports_given = true;
      else if (a == "--solark-port") o.solark_port = integer(v, a), o.ports_given = true;
      else if (a == "--battery-unit") o.battery_unit = integer(v, a);
      else if (a == "--charger-unit") o.charger_unit = integer(v, a);
      else if (a == "--more-charger-unit") o.more_chargers.push_back(integer(v, a));
      else if (a == "--vebus-unit") o.vebus_unit = integer(v, a);
      else if (a == "--temperature-unit") o.temperature_unit = integer(v, a);
      else if (a == "--solark-unit") o.solark_unit = integer(v, a);
      else if (a == "--scenario") o.scenario = v;
      else if (a == "--gx-firmware") o.gx_map = sim::gx_map_for(v);
      else if (a == "--speed") o.speed = number(v, a);
      else if (a == "--repeat-s") o.repeat_s = number(v, a);
      else if (a == "--battery-v") model.rest_v = number(v, a);
      else if (a == "--bms-min-cell-c") model.bms_min_cell_c = number(v, a);
      else if (a == "--absorption-v") model.absorption_v = number(v, a);
      else if (a == "--capacity-wh") model.capacity_wh = number(v, a);
      else if (a == "--soc") model.soc_pct = number(v, a);
      else if (a == "--internal-ohm") model.internal_ohm = number(v, a);
      else if (a == "--pv-w") model.pv_w = number(v, a);
      else if (a == "--house-w") model.house_w = number(v, a);
      else if (a == "--inverter-w" || a == "--inverter-trip-s") {
        const double x = number(v, a);
        if (!(x > 0 && x <= 1e6)) throw std::runtime_error(a + " " + v + ": must be above 0 (at most 1000000)");
        if (a == "--inverter-w") model.inverter_continuous_w = x;
        else model.trip_after_s = x;
      }
      else if (a == "--inverter-phases") {
        const int n = integer(v, a);
        if (n < 1 || n > 3) throw std::runtime_error(a + " " + v + ": must be 1, 2 (split phase) or 3");
        model.inverter_phases = n;
      } else if (a == "--load-phase") {
        const auto eq = v.find('=');
        if (eq == std::string::npos) throw std::runtime_error(a + " wants NAME=N, got '" + v + "'");
        const int n = integer(v.substr(eq + 1), a + " " + v.substr(0, eq));
        if (n < 1 || n > 3) throw std::runtime_error(a + " " + v + ": the leg must be 1, 2 or 3");
        o.load_phase[v.substr(0, eq)] = n;
      } else if (a == "--house-share") {
        std::array<double, 3> share{0, 0, 0};
        std::stringstream ss(v);
        std::size_t k = 0;
        for (std::string cell; std::getline(ss, cell, ',');) {
          if (k == share.size()) throw std::runtime_error(a + " '" + v + "': at most 3 shares (L1,L2,L3)");
          share[k] = number(cell, a + " L" + std::to_string(k + 1));
          if (!(share[k] >= 0 && share[k] <= 1e6)) {
            throw std::runtime_error(a + " '" + v + "': L" + std::to_string(k + 1) + "'s share '" + cell +
                                     "' must be 0 to 1000000");
          }
          ++k;
        }
        if (share[0] + share[1] + share[2] <= 0) throw std::runtime_error(a + " '" + v + "': the shares sum to 0");
        model.house_phase_share = share;
      }
      else if (a == "--victron-pv-share") model.victron_pv_share = number(v, a);
      else if (a == "--mqtt") o.mqtt = v;
      else if (a == "--site-from") o.site_from = v;
      else if (a == "--write-config") o.write_config = v;
      else if (a == "--sensor-period") o.sensor_period_s = number(v, a);
      else if (a == "--tasmota-relay" || a == "--tasmota-sensor") {
        const auto eq = v.find('=');
        if (eq == std::string::npos) throw std::runtime_error(a + " wants NAME=TOPIC, got '" + v + "'");
        (a == "--tasmota-relay" ? o.relays : o.sensors)[v.substr(0, eq)] = v.substr(eq + 1);
      } else if (a == "--device") {
        const auto eq = v.find('='), colon = v.rfind(':');
        if (eq == std::string::npos || colon == std::string::npos || colon < eq) {
          throw std::runtime_error("--device wants NAME=KIND:PORT, got '" + v + "'");
        }
        Options::Device d{v.substr(0, eq), nullptr, integer(v.substr(colon + 1), "--device " + v.substr(0, eq) + " port")};
        const std::string kind = v.substr(eq + 1, colon - eq - 1);
        d.kind = drivers::find_kind(drivers::builtin_kinds(), kind);
        if (!d.kind) {
          std::string known;
          for (const auto* k : drivers::builtin_kinds()) known += (known.empty() ? "" : ", ") + std::string(k->key);
          throw std::runtime_error("--device " + d.name + ": no kind '" + kind + "' (" + known + ")");
        }
        if (d.name.empty() || d.name == "victron" || d.name == "solark") {
          throw std::runtime_error("--device '" + d.name + "': a name of its own (victron and solark are the default devices)");
        }
        for (const auto& other : o.devices) {
          if (other.name == d.name) throw std::runtime_error("--device " + d.name + ": given twice");
        }
        if (d.port < 0 || d.port > 65535) throw std::runtime_error("--device " + d.name + ": port out of range");
        o.devices.push_back(std::move(d));
      } else if (a == "--miner") {
        const auto eq = v.find('='), colon = v.rfind(':');
        if (eq == std::string::npos || colon == std::string::npos || colon < eq) {
          throw std::runtime_error("--miner wants LOAD=KIND:PORT, got '" + v + "'");
        }
        Options::Miner m{v.substr(0, eq), drivers::miners::find_miner_kind(v.substr(eq + 1, colon - eq - 1)),
                         integer(v.substr(colon + 1), "--miner " + v.substr(0, eq) + " port")};
        if (!m.kind) throw std::runtime_error("--miner " + m.load + ": no miner kind '" + v.substr(eq + 1, colon - eq - 1) + "' (luxos, whatsminer, whatsminer_v2, braiins)");
        if (m.port < 0 || m.port > 65535) throw std::runtime_error("--miner " + m.load + ": port out of range");
        o.miners.push_back(std::move(m));
      } else if (a == "--miner-wind-down-s") {
        o.miner_wind_down_s = number(v, a);
        if (!(o.miner_wind_down_s >= 0 && o.miner_wind_down_s <= 600)) throw std::runtime_error("--miner-wind-down-s: 0 to 600");
      } else if (a == "--miner-boot-s") {
        o.miner_boot_s = number(v, a);
        if (!(o.miner_boot_s >= 1 && o.miner_boot_s <= 3600)) throw std::runtime_error("--miner-boot-s: 1 to 3600");
      } else if (a == "--relay-power-on") {
        const auto eq = v.find('=');
        if (eq == std::string::npos) throw std::runtime_error("--relay-power-on wants LOAD=SETTING, got '" + v + "'");
        o.power_on[v.substr(0, eq)] = v.substr(eq + 1);
      } else if (a == "--metered-relay") {
        o.metered.insert(v);
      } else if (a == "--load") {
        const auto eq = v.find('=');
        if (eq == std::string::npos) throw std::runtime_error("--load wants NAME=WATTS, got '" + v + "'");
        model.loads[v.substr(0, eq)] = {number(v.substr(eq + 1), "--load " + v.substr(0, eq)), false};
      } else {
        throw std::runtime_error("unknown option '" + a + "' (see --help)");
      }
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "shackd-sim: {}\n", e.what());
    return 64;
  }
  std::optional<sim::OwnerSite> owner;
  std::map<std::string, std::string> served_as;  // the owner's device name -> the server that serves it
  if (o.site_from.empty() != o.write_config.empty()) {
    fmt::print(stderr, "shackd-sim: --site-from and --write-config go together (the trial config is how shackd "
                       "finds the simulated site)\n");
    return 64;
  }
  if (!o.site_from.empty()) {
    if (!o.mqtt.empty() || !o.relays.empty() || !o.sensors.empty()) {
      fmt::print(stderr, "shackd-sim: --site-from takes the broker, relays and sensors from the config; drop --mqtt, "
                         "--tasmota-relay and --tasmota-sensor\n");
      return 64;
    }
    try {
      owner = sim::read_owner_site(o.site_from);
    } catch (const std::exception& e) {
      fmt::print(stderr, "shackd-sim: {}\n", e.what());
      return 65;
    }
    take_owner_site(o, model, *owner, served_as);
    if (!o.ports_given) o.victron_port = o.solark_port = 0;
  }
  for (const auto& [load, phase] : o.load_phase) {
    const auto it = model.loads.find(load);
    if (it == model.loads.end()) {
      fmt::print(stderr, "shackd-sim: --load-phase {}: no --load {} defined\n", load, load);
      return 64;
    }
    if (phase > model.inverter_phases) {
      fmt::print(stderr, "shackd-sim: --load-phase {}={}: the inverter has {} (--inverter-phases)\n", load, phase,
                 model.inverter_phases == 1 ? "one phase" : std::to_string(model.inverter_phases) + " phases");
      return 64;
    }
    it->second.phase = phase;
  }

  std::unique_ptr<sim::Scenario> scenario;
  if (!o.scenario.empty()) {
    try {
      scenario = std::make_unique<sim::Scenario>(sim::load_scenario(o.scenario));
    } catch (const std::exception& e) {
      fmt::print(stderr, "shackd-sim: {}\n", e.what());
      return 65;
    }
  }

  std::mutex model_mutex;
  auto gx = sim::gx_units(o.gx_map, o.battery_unit, o.charger_unit, o.temperature_unit, o.vebus_unit);
  gx[0].unit = o.system_unit;
  for (const int c : o.more_chargers) {
    gx.push_back(gx[2]);
    gx.back().unit = c;
  }
  sim::DeviceServer victron("victron", o.bind, o.victron_port, std::move(gx), model, model_mutex);
  sim::DeviceServer solark("solark", o.bind, o.solark_port, {{o.solark_unit, &sim::solark_served_table(), 0, 331}},
                           model, model_mutex);
  victron.serve_gx_settings();
  victron.serve_gx_map(o.gx_map);  // dbus-modbustcp's rule: 0x0A for a service the unit lacks
  // The Sol-Ark's battery max charge current (holding register 210, A), written with function 16
  // only (docs/registers.md §2.8); 185 A is the single-phase models' top of range.
  solark.serve_writable(o.solark_unit, 210, 185, true);
  std::vector<std::unique_ptr<sim::DeviceServer>> extra;
  for (const auto& d : o.devices) model.parallel_inverters += d.kind->key == drivers::solark::kind().key ? 1 : 0;
  for (const auto& d : o.devices) {
    extra.push_back(std::make_unique<sim::DeviceServer>(d.name, o.bind, d.port, sim::units_for(*d.kind, d.ids), model, model_mutex));
    sim::serve_charge_limits(*extra.back(), *d.kind, 100, d.ids);
  }
  // Each miner: its firmware's model behind its load's relay, its API on its own port.
  std::map<std::string, sim::MinerModel> miners;
  std::vector<std::pair<std::string, std::unique_ptr<sim::MinerServer>>> miner_servers;
  for (const auto& m : o.miners) {
    const auto load = model.loads.find(m.load);
    if (load == model.loads.end()) {
      fmt::print(stderr, "shackd-sim: --miner {}: no --load {}=WATTS defined\n", m.load, m.load);
      return 64;
    }
    sim::MinerModel& mm = miners[m.load];
    mm.kind = m.kind;
    mm.nominal_w = load->second.power_w;
    mm.boot_s = o.miner_boot_s;
    mm.ramp_s = o.miner_boot_s * 4 / 3;
    mm.wind_down_s = o.miner_wind_down_s;
    mm.max_target_w = std::max(mm.max_target_w, mm.nominal_w);
    miner_servers.emplace_back(m.load, std::make_unique<sim::MinerServer>(o.bind, m.port, mm, model_mutex));
  }
  try {
    victron.start();
    solark.start();
    for (auto& d : extra) d->start();
    for (auto& [load, server] : miner_servers) server->start();
  } catch (const std::exception& e) {
    fmt::print(stderr, "shackd-sim: {}\n", e.what());
    return 71;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);

  std::vector<sim::ServedDevice> others;
  for (std::size_t i = 0; i < extra.size(); ++i) others.push_back({extra[i].get(), o.devices[i].kind, o.devices[i].ids});
  // The model advances in its own thread, in scenario time.
  std::map<std::string, bool> miner_relay_on;  // the ticker's own: a cut is reported once
  std::thread ticker([&] {
    const auto start = std::chrono::steady_clock::now();
    auto last = start;
    while (!g_stop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      const auto now = std::chrono::steady_clock::now();
      double t = std::chrono::duration<double>(now - start).count() * o.speed;
      if (o.repeat_s > 0) t = std::fmod(t, o.repeat_s);
      const double dt = std::chrono::duration<double>(now - last).count() * o.speed;
      last = now;
      std::lock_guard lock(model_mutex);
      sim::couple_charge_limits(model, victron, solark, o.solark_unit, others);
      for (auto& [load, mm] : miners) {
        auto& l = model.loads[load];
        // What the relay broke, as the miner drew it up to the cut (within one 50 ms tick): the
        // proof that a soft stop waited for the sleep (tests/e2e/miner_api.sh).
        if (miner_relay_on[load] && !l.on) {
          fmt::print("miner.{} relay cut at {:.0f} W asleep={}\n", load, mm.draw_w(), mm.asleep);
          std::fflush(stdout);
        }
        miner_relay_on[load] = l.on;
        mm.advance(dt, l.on);
        l.power_w = mm.draw_w();  // what the miner draws is what its load takes
      }
      model.advance(t, dt, scenario.get());
    }
  });
  // Every way out from here stops the ticker first: a joinable std::thread destroyed ends the
  // program in std::terminate.
  struct StopTicker {
    std::thread& thread;
    ~StopTicker() {
      g_stop = true;
      if (thread.joinable()) thread.join();
    }
  } stop_ticker{ticker};
  {
    std::lock_guard lock(model_mutex);
    model.advance(0, 0, scenario.get());
  }
  std::unique_ptr<sim::MqttSite> mqtt_site;
  if (owner) {
    // The trial config: the owner's, at this run's ports; its relays and sensors are what the
    // simulator answers, read back through shackd's own parser so both sides agree.
    sim::ServedAt at;
    at.bind = o.bind;
    for (const auto& [name, server] : served_as) {
      at.device_ports[name] = server == "victron" ? victron.port() : server == "solark" ? solark.port() : 0;
      for (const auto& d : extra) {
        if (d->name() == server) at.device_ports[name] = d->port();
      }
    }
    for (const auto& [load, server] : miner_servers) at.miner_ports[load] = server->port();
    const std::string db = o.write_config.substr(0, o.write_config.rfind(".yaml") == o.write_config.size() - 5
                                                        ? o.write_config.size() - 5
                                                        : o.write_config.size()) + ".db";
    const std::string text = sim::trial_config_text(owner->config.text, o.site_from, at, db);
    auto trial = shackd::parse_config(text, o.write_config);
    if (!trial.config) {
      fmt::print(stderr, "shackd-sim: the trial config did not parse (a bug: please report it):\n");
      for (const auto& e : trial.errors) fmt::print(stderr, "  {}\n", e);
      return 70;
    }
    std::FILE* f = std::fopen(o.write_config.c_str(), "w");
    if (!f || std::fputs(text.c_str(), f) < 0 || std::fclose(f) != 0) {
      fmt::print(stderr, "shackd-sim: --write-config {}: cannot write it ({})\n", o.write_config, std::strerror(errno));
      return 73;
    }
    for (const auto& r : trial.config->relays) o.site_relays.push_back({r.id, r, false, o.power_on[r.id]});
    for (const auto& s : trial.config->sensors) o.site_sensors.push_back({s.id, s});
    o.mqtt_client = shackd::side_client_config(trial.config->mqtt, "sim");
    try {
      mqtt_site = std::make_unique<sim::MqttSite>(o.mqtt_client, o.site_relays, o.site_sensors, model, model_mutex,
                                                  o.sensor_period_s);
    } catch (const std::exception& e) {
      fmt::print(stderr, "shackd-sim: mqtt: {}\n", e.what());
      return 64;
    }
    fmt::print("trial config {} (database {}): shackd run --config {}\n", o.write_config, db, o.write_config);
  } else if (!o.mqtt.empty()) {
    for (const auto& [load, setting] : o.power_on) {
      if (!o.relays.count(load)) {
        fmt::print(stderr, "shackd-sim: --relay-power-on {}: no --tasmota-relay {}=TOPIC defined\n", load, load);
        return 64;
      }
    }
    for (const auto& [load, topic] : o.relays) {
      if (!model.loads.count(load)) {
        fmt::print(stderr, "shackd-sim: --tasmota-relay {}: no --load {} defined\n", load, load);
        return 64;
      }
    }
    for (const auto& load : o.metered) {
      if (!o.relays.count(load)) {
        fmt::print(stderr, "shackd-sim: --metered-relay {}: no --tasmota-relay {}=TOPIC defined\n", load, load);
        return 64;
      }
    }
    for (const auto& [load, topic] : o.relays) {
      drivers::mqtt::RelayConfig r;
      r.id = load;
      r.topic = topic;
      o.site_relays.push_back({load, r, o.metered.count(load) > 0, o.power_on[load]});
    }
    for (const auto& [zone, topic] : o.sensors) {
      drivers::mqtt::SensorConfig c;
      c.id = zone;
      c.topic = "tele/" + topic + "/SENSOR";
      c.key = "DS18B20";
      o.site_sensors.push_back({zone, c});
    }
    o.mqtt_client.uri = o.mqtt;
    o.mqtt_client.client_id = "shackd-sim";
    o.mqtt_client.status_topic = "shackd-sim/status";
    try {
      mqtt_site = std::make_unique<sim::MqttSite>(o.mqtt_client, o.site_relays, o.site_sensors, model, model_mutex,
                                                  o.sensor_period_s);
    } catch (const std::exception& e) {
      fmt::print(stderr, "shackd-sim: {}\n", e.what());
      return 64;
    }
  }
  std::string more;
  for (const auto& d : extra) more += fmt::format(" {}={}:{}", d->name(), o.bind, d->port());
  for (const auto& [load, server] : miner_servers) more += fmt::format(" miner.{}={}:{}", load, o.bind, server->port());
  fmt::print("ready victron={}:{} solark={}:{}{}\n", o.bind, victron.port(), o.bind, solark.port(), more);
  std::fflush(stdout);

  const auto device = [&](const std::string& name) -> sim::DeviceServer& {
    if (name == "victron") return victron;
    if (name == "solark") return solark;
    for (auto& d : extra) {
      if (d->name() == name) return *d;
    }
    throw std::runtime_error("no device '" + name + "' (victron, solark or a --device name)");
  };
  bool stdin_open = true;
  // Commands are read with read(2), not std::getline: poll() on the descriptor cannot see lines
  // already sitting in std::cin's buffer, so a second command sent together with the first
  // would wait for the next one.
  std::string pending, line;
  std::deque<std::string> lines;
  while (!g_stop) {
    if (lines.empty()) {
      if (!stdin_open) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      pollfd pfd{STDIN_FILENO, POLLIN, 0};
      if (::poll(&pfd, 1, 100) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n <= 0) {
        stdin_open = false;  // no more commands: keep serving until a signal
        continue;
      }
      pending.append(buf, static_cast<std::size_t>(n));
      for (std::size_t at; (at = pending.find('\n')) != std::string::npos; pending.erase(0, at + 1)) {
        lines.push_back(pending.substr(0, at));
      }
      continue;
    }
    line = std::move(lines.front());
    lines.pop_front();
    std::istringstream in(line);
    std::vector<std::string> w;
    for (std::string word; in >> word;) w.push_back(word);
    if (w.empty()) continue;
    try {
      if (w[0] == "quit") break;
      if (w[0] == "mark") {
        // Latency: the first Modbus request and the first relay command after this instant.
        victron.mark();
        solark.mark();
        if (mqtt_site) mqtt_site->mark();
        fmt::print("ok\n");
      } else if (w[0] == "latency") {
        const long long poll = std::max(victron.first_after_mark_ns(), 0LL);
        const long long cmd = mqtt_site ? mqtt_site->first_command_after_mark_ns() : 0;
        if (poll == 0 || cmd == 0) fmt::print("latency pending\n");
        else fmt::print("latency_us={:.1f}\n", static_cast<double>(cmd - poll) / 1000.0);
      } else if (w[0] == "status") {
        std::lock_guard lock(model_mutex);
        // The line shows the limits the registers hold and the current they allow, so the model takes
        // the registers now rather than at the ticker's next turn (up to 50 ms later, longer on a
        // loaded machine): a check that read "dvcc=0" then battery_a saw the limit's effect lag it.
        sim::couple_charge_limits(model, victron, solark, o.solark_unit, others);
        // A split- or three-phase inverter: each leg's output and overload word, and the leg that tripped.
        std::string legs;
        for (int ph = 1; model.inverter_phases > 1 && ph <= model.inverter_phases; ++ph) {
          legs += fmt::format(" load_w_l{}={:.0f} overload_l{}={}", ph, model.phase_load_w(ph), ph, model.overload_word(ph));
        }
        if (model.inverter_phases > 1) legs += fmt::format(" tripped_phase={}", model.tripped_phase);
        fmt::print("battery_v={:.3f} rest_v={:.3f} battery_a={:.2f} soc_pct={:.1f} pv_w={:.0f} load_w={:.0f} "
                   "requests_victron={} requests_solark={} writes={} dvcc={} solark_max_charge_a={} pv_victron_w={:.0f} "
                   "pv_solark_w={:.0f} inverter_trips={} overload={} generator={} generator_w={:.0f} "
                   "generator_peak_w={:.0f} generator_over_s={:.0f}{}\n",
                   model.battery_v(), model.rest_v, model.battery_a(), model.soc_pct, model.pv_w, model.load_w(),
                   victron.requests(), solark.requests(), victron.writes() + solark.writes(),
                   victron.dvcc_max_charge_current(), solark.writable(o.solark_unit, 210).value_or(-1),
                   model.pv_victron_w(), model.pv_solark_w(), model.trips, model.overload_word(),
                   model.generator_running ? "on" : "off", model.generator_w(), model.generator_peak_w,
                   model.generator_over_s, legs);
        for (const auto& [load, mm] : miners) {
          fmt::print("miner.{} powered={} asleep={} draw_w={:.0f} chip_c={:.1f} sleeps={} wakes={} target_w={:.0f} "
                     "target_writes={} refused={}\n",
                     load, mm.powered, mm.asleep, mm.draw_w(), mm.chip_c(), mm.sleeps, mm.wakes, mm.target_w,
                     mm.target_writes, mm.refused);
        }
      } else if (w[0] == "set" && w.size() == 3) {
        const double v = number(w[2], w[1]);
        std::lock_guard lock(model_mutex);
        if (w[1] == "battery_v") model.rest_v = v;
        else if (w[1] == "pv_w") model.pv_w = v;
        else if (w[1] == "house_w") model.house_w = v;
        else if (w[1] == "battery_temp_c") model.battery_temp_c = v;
        else if (w[1] == "internal_ohm") model.internal_ohm = v;
        else if (w[1] == "soc_pct") model.soc_pct = v;
        else if (w[1] == "battery_temp_sensor") model.battery_temp_sensor = v != 0;
        else if (w[1] == "temperature_status") model.temperature_status = static_cast<int>(v);
        else if (w[1] == "bms_min_cell_c") model.bms_min_cell_c = v;
        else if (w[1] == "bms_max_charge_a") model.bms_max_charge_a = v;
        else if (w[1] == "absorption_v") model.absorption_v = v;
        else if (w[1] == "taper_a") model.taper_a = v;
        else if (w[1] == "bms_cold_cutoff_c") model.bms_cold_cutoff_c = v;
        else if (w[1] == "generator_w") model.generator_continuous_w = v;
        else if (w[1].rfind("zone.", 0) == 0) model.zone_temp_c[w[1].substr(5)] = v;
        else throw std::runtime_error("cannot set '" + w[1] + "'");
        fmt::print("ok\n");
      } else if (w[0] == "generator" && (w.size() == 2 || (w.size() == 3 && w[1] == "on"))) {
        if (w[1] != "on" && w[1] != "off") throw std::runtime_error("generator on|off [CHARGE_W]");
        const double charge_w = w.size() == 3 ? number(w[2], "generator CHARGE_W") : 0;
        if (!(charge_w >= 0 && charge_w <= 1e6)) throw std::runtime_error("generator: CHARGE_W 0 to 1000000");
        std::lock_guard lock(model_mutex);
        model.generator_running = w[1] == "on";
        model.generator_charge_w = charge_w;
        fmt::print("ok\n");
      } else if (w[0] == "bms_alarm" && w.size() == 3) {
        const int level = integer(w[2], "bms_alarm");
        if (level < 0 || level > 2) throw std::runtime_error("bms_alarm: level 0, 1 or 2");
        std::lock_guard lock(model_mutex);
        model.bms_alarms[w[1]] = level;
        fmt::print("ok\n");
      } else if (w[0] == "charger_fault" && w.size() == 2) {
        std::lock_guard lock(model_mutex);
        model.charger_fault = integer(w[1], "charger_fault") != 0;
        fmt::print("ok\n");
      } else if (w[0] == "solark_fault" && w.size() == 3) {
        const int code = integer(w[1], "solark_fault");
        if (code < 1 || code > 64 || (w[2] != "on" && w[2] != "off")) throw std::runtime_error("solark_fault: F (1-64) on|off");
        std::lock_guard lock(model_mutex);
        std::erase(model.solark_faults, code);
        if (w[2] == "on") model.solark_faults.push_back(code);
        fmt::print("ok\n");
      } else if (w[0] == "miner" && w.size() == 4) {
        std::lock_guard lock(model_mutex);
        const auto it = miners.find(w[1]);
        if (it == miners.end()) throw std::runtime_error("no miner '" + w[1] + "' (--miner " + w[1] + "=KIND:PORT)");
        if (w[2] == "extra_c") it->second.extra_c = number(w[3], "extra_c");
        else if (w[2] == "api" && (w[3] == "dead" || w[3] == "ok")) it->second.api_dead = w[3] == "dead";
        else if (w[2] == "target" && (w[3] == "ignore" || w[3] == "follow")) it->second.ignores_target = w[3] == "ignore";
        else throw std::runtime_error("miner " + w[1] + ": extra_c C, api dead|ok, or target ignore|follow");
        fmt::print("ok\n");
      } else if (w[0] == "load" && w.size() == 3) {
        std::lock_guard lock(model_mutex);
        if (w[2] == "on" || w[2] == "off") {
          const auto it = model.loads.find(w[1]);
          if (it == model.loads.end()) throw std::runtime_error("no load '" + w[1] + "' (define it: load NAME WATTS)");
          it->second.on = w[2] == "on";
        } else {
          model.loads[w[1]].power_w = number(w[2], "load " + w[1]);
        }
        fmt::print("ok\n");
      } else if (w[0] == "relay" && w.size() == 3) {
        if (!mqtt_site) throw std::runtime_error("no MQTT site (--mqtt)");
        using F = sim::MqttSite::RelayFault;
        if (w[2] != "mute" && w[2] != "stuck" && w[2] != "ok") throw std::runtime_error("relay fault: mute, stuck or ok");
        mqtt_site->set_relay_fault(w[1], w[2] == "mute" ? F::mute : w[2] == "stuck" ? F::stuck : F::ok);
        fmt::print("ok\n");
      } else if (w[0] == "power_cut" && w.size() <= 2) {
        if (!mqtt_site) throw std::runtime_error("no MQTT site (--mqtt)");
        const double seconds = w.size() == 2 ? std::stod(w[1]) : 0;
        if (!(seconds >= 0 && seconds <= 86400)) throw std::runtime_error("power_cut: SECONDS must be 0 to 86400");
        mqtt_site->power_cut(seconds);
        fmt::print("ok\n");
      } else if (w[0] == "relay_power_on" && w.size() == 2) {
        if (!mqtt_site) throw std::runtime_error("no MQTT site (--mqtt)");
        fmt::print("relay {} power-on {}\n", w[1], mqtt_site->power_on(w[1]));
      } else if (w[0] == "fault" && w.size() >= 3) {
        sim::DeviceServer& d = device(w[1]);
        sim::Faults f = d.faults();
        if (w[2] == "offline") f.offline = true;
        else if (w[2] == "online") f.offline = false;
        else if (w[2] == "slow" && w.size() == 4) f.slow_ms = integer(w[3], "slow");
        else if (w[2] == "exception" && w.size() >= 4) {
          f.exception = static_cast<int>(std::stoi(w[3], nullptr, 0));
          f.exception_unit = w.size() == 5 ? integer(w[4], "unit") : 0;
        } else if (w[2] == "garbage") f.garbage = true;
        else if (w[2] == "idle-close" && w.size() == 4) f.idle_close_s = integer(w[3], "idle-close");
        else if (w[2] == "clear") f = {};
        else throw std::runtime_error("unknown fault '" + w[2] + "'");
        d.set_faults(f);
        fmt::print("ok\n");
      } else {
        throw std::runtime_error("unknown command '" + line + "' (see --help)");
      }
    } catch (const std::exception& e) {
      fmt::print("error: {}\n", e.what());
    }
    std::fflush(stdout);
  }
  g_stop = true;
  if (ticker.joinable()) ticker.join();
  mqtt_site.reset();
  victron.stop();
  solark.stop();
  for (auto& d : extra) d->stop();
  return 0;
}
