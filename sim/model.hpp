#pragma once
// The simulator's one physical model of the site. Loads switched on raise the load and sag the
// battery voltage by I x R, so a controller under test sees the consequences of its decisions.
#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sim {

struct ScenarioRow {
  double t_s = 0;
  std::map<std::string, double> values;  // battery_v, pv_w, house_w, battery_temp_c, zone.<name>
};

// A time series, linearly interpolated; the last row holds after its time.
struct Scenario {
  std::vector<ScenarioRow> rows;
  std::optional<double> at(const std::string& column, double t_s) const;
};
// CSV with a header `t_s,battery_v,pv_w,...`. Throws std::runtime_error naming line and column.
Scenario load_scenario(const std::string& path);

struct Load {
  double power_w = 0;
  bool on = false;
  int phase = 1;  // the inverter's leg that feeds it, 1 (L1) to 3; read only with inverter_phases > 1
};

class SiteModel {
 public:
  // Rest (open-circuit) voltage. With capacity_wh > 0 and no scenario voltage, it follows the
  // state of charge through the curve as energy flows; otherwise it is set directly.
  double rest_v = 52.0;
  double capacity_wh = 0;
  double soc_pct = 65;
  double pv_w = 0;                // what the panels offer (a scenario input)
  double victron_pv_share = 0.5;  // PV on the GX's MPPTs; the rest on the Sol-Ark's inputs
  // Inverters of the Sol-Ark's kind in parallel on the one bank (the Sol-Ark and every --device
  // of its kind): each reports an equal share of the inverters' PV, load and battery current,
  // as a parallel stack shares them; the voltage is the bank's.
  int parallel_inverters = 1;
  // The chargers' charge-current limits (A into the battery): the GX's DVCC max charge current
  // (2705) caps the Victron MPPTs, the Sol-Ark's battery max charge current (210) its own
  // MPPTs. Unset: no limit. A charger at its limit holds its PV back (it is not produced).
  std::optional<double> victron_charge_limit_a, solark_charge_limit_a;
  // A full battery: at or above absorption_v (0: never) the chargers hold PV back to what the
  // loads take plus taper_a into the battery, and report float (775 = 5) and limited tracking
  // (791 = 1). What the panels offer (pv_w) is then more than what is produced.
  double absorption_v = 0;
  double taper_a = 3;
  double house_w = 500;
  double internal_ohm = 0.01;
  double battery_temp_c = 20;
  int temperature_status = 0;            // the temperature service's 3305: 1 open circuit, 2 short
  bool battery_temp_sensor = true;       // false: the monitor's 262 reads 0 ("not available")
  std::optional<double> bms_min_cell_c;  // a BMS's coldest cell (318); unset: a shunt, reads 0
  // A BMS (bms_min_cell_c set) behaves as LiFePO4 BMSes do: its charge current limit (307) is
  // bms_max_charge_a, 0 with allow-to-charge (1297) off and a low-charge-temperature alarm (325)
  // while its coldest cell is below bms_cold_cutoff_c; through DVCC the limit caps the Victron
  // chargers. bms_alarms raises others by name ("low_cell_voltage" -> 326), 1 warning, 2 alarm.
  double bms_max_charge_a = 100;
  double bms_cold_cutoff_c = 0;
  std::map<std::string, int> bms_alarms;
  bool charger_fault = false;  // the GX solar charger reports state 2 (fault)
  std::vector<int> solark_faults;  // Sol-Ark fault codes set (F56 -> 56), in fault words 103-106
  std::map<std::string, double> zone_temp_c;
  std::map<std::string, Load> loads;

  // The inverter that feeds the AC loads (issue 59), with a continuous rating: above it, its
  // VE.Bus overload word reads 1 (warning); held above it for trip_after_s, 2 (alarm) and its AC
  // output goes off: every load loses its power (its relay off, as after a power cut) and the
  // house is dark, for trip_restart_s. Victron documents the words (attributes.csv: 0 ok,
  // 1 warning, 2 alarm) but no overload curve in the material we cite: the thresholds and times
  // are the simulator's own assumption, not a Multi's behaviour. Unset: no rating, no trip.
  std::optional<double> inverter_continuous_w;
  double trip_after_s = 10;
  double trip_restart_s = 60;
  double over_s = 0;                 // how long the load has been above the rating (the worst leg's)
  std::optional<double> tripped_s;   // since when its output is off
  int trips = 0;
  int overload_word() const;         // VE.Bus /Alarms/Overload: 0 ok, 1 warning, 2 alarm

  // A split-phase (2: L1 and L2, a Victron pair or a US 120/240 V inverter) or three-phase (3)
  // inverter: each load is on its Load::phase, the house on the legs in house_phase_share's
  // proportions (all on L1 unless set), and inverter_continuous_w is each leg's own rating. Each
  // leg has its output (the vebus /Ac/Out/L<n>/P, 23-25, the system's consumption on it, and the
  // Sol-Ark's or Deye's load on it, 176-177, 650-652) and its overload word
  // (/Alarms/L<n>/Overload, 46, 50, 54): 1 above its rating, 2 on the leg that tripped; the
  // whole unit's word (36) is the worst of them. A leg above its rating for
  // trip_after_s trips the whole output, every leg, as one inverter does. That a VE.Bus system
  // stops on every phase when one unit overloads is the simulator's assumption, as are the
  // thresholds and times above: attributes.csv (tests/fixtures/reference/victron/; vebus
  // /Ac/Out/L2/P 24, /Alarms/L2/Overload 50) documents the registers and the words, not the
  // timing. With 1 (the default) every load and the house are on L1, as before.
  int inverter_phases = 1;
  std::array<double, 3> house_phase_share{1, 0, 0};
  double phase_load_w(int phase) const;    // 1 to inverter_phases; 0 while tripped or beyond them
  int overload_word(int phase) const;      // /Alarms/L<phase>/Overload
  std::array<double, 3> phase_over_s{};    // each leg's time above its rating
  int tripped_phase = 0;                   // the leg whose overload tripped it (0: none)

  // A generator on the inverter's AC input (issue 59, part 4). While it runs the inverter passes
  // it through to its output: it feeds the AC loads, and its charger takes generator_charge_w
  // from it into the bank. The GX's system service then says so: /Ac/ActiveIn/Source (826) 2,
  // /Ac/Genset/L1/Power (823) its output (attributes.csv; victronenergy/dbus-systemcalc-py, its
  // tests: the vebus input's power while the active input is set as a generator); while it is
  // off, 826 reads 240 (not connected) and 823 0. One phase (L1). How a real genset and a
  // Multi's PowerAssist share a load above the generator's rating is not modelled: the
  // simulator records the time its output spends above generator_continuous_w and its peak.
  bool generator_running = false;
  double generator_charge_w = 0;
  std::optional<double> generator_continuous_w;
  double generator_over_s = 0;   // time its output spent above its rating, summed
  double generator_peak_w = 0;   // its highest output while it ran
  double generator_w() const;    // its output: the AC load and its charge, 0 while it is off

  double load_w() const;          // house + loads that are on
  // PV produced on each side after the chargers' limits; the same as offered when none bites.
  double pv_victron_w() const;
  double pv_solark_w() const;
  double battery_a() const;       // + = charging
  double battery_v() const;       // at the terminals: rest + I x R
  int charge_state() const;       // GX solar charger 775: 0 off, 2 fault, 3 bulk, 4 absorption, 5 float
  std::optional<double> bms_charge_limit_a() const;  // nullopt without a BMS
  bool full() const { return absorption_v > 0 && rest_v >= absorption_v; }

  // Advances simulated time: scenario inputs at `t_s`, energy into the battery over `dt_s`.
  void advance(double t_s, double dt_s, const Scenario* scenario);

  // A register's value for the simulator's tables: "system.battery_v" etc.; nullopt if not served.
  std::optional<double> value(const std::string& service, const std::string& field) const;

 private:
  void advance_phases(double t_s, double dt_s);  // the legs' overload and trip, inverter_phases > 1
  // The same for the whole site, before a parallel inverter's share is taken.
  std::optional<double> site_value(const std::string& service, const std::string& field) const;
};

}  // namespace sim
