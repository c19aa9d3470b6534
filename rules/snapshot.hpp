#pragma once
// The frozen process image for one cycle. Every reading carries the instant it was taken;
// missing is std::nullopt, never 0. The rules decide staleness from `now - as_of`.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "rules/time.hpp"

namespace rules {

struct Reading {
  double value = 0;
  SteadyTime as_of{};
};

// One source of a quantity the site measures more than one way. The rules know its rank and
// its words, never what device it is.
struct Source {
  std::string name;   // stable, for events and JSON: "battery_monitor"
  std::string label;  // for people: "the battery monitor's voltage"
  std::optional<Reading> reading;
};

// What an AC source says of itself: its output per phase, and its own overload warnings as the
// device words them (0 ok, 1 warning, 2 alarm; each driver maps its device to it).
struct AcPhaseReadings {
  std::optional<Reading> load_w;    // the source's AC output on this phase, watts
  std::optional<Reading> overload;  // this phase's warning
};
struct AcSourceReadings {
  std::optional<Reading> overload;  // the whole source's warning
  std::array<AcPhaseReadings, 3> phase;
};

struct Snapshot {
  SteadyTime now{};
  // Minutes since local midnight in the site's timezone, for schedules only. nullopt while the
  // wall clock is not trusted (no RTC and no NTP sync yet): scheduled-only loads then wait.
  std::optional<int> local_minute_of_day;

  // The battery's voltage as each source measures it, in the owner's order of preference:
  // the first one fresh and plausible decides; the rest are cross-checked against it.
  std::vector<Source> battery_v;
  std::optional<Reading> battery_a;  // + = charging
  // The battery's temperature, in the owner's order of preference (a BMS's coldest cell, a
  // monitor's sensor, an inverter's sensor ...): the first fresh one decides the charge block,
  // then the air of the zone that holds the battery.
  std::vector<Source> battery_temp_c;
  std::optional<Reading> pv_w;            // total PV production
  // A sum with a part missing (a device offline) is a lower bound, not missing: it can prove
  // "PV >= minimum" but never "PV < minimum", and a partial load proves no surplus at all.
  bool pv_w_partial = false;
  bool load_w_partial = false;
  // Total AC consumption, *including* the loads shackd switches (inverters measure it that
  // way). The rules subtract the draw of the loads they have on.
  std::optional<Reading> load_w;

  // 1 while the chargers hold PV back (absorption, float, a charge limit: the devices say so),
  // else 0: the measured PV is then what the loads take, not what the panels offer.
  std::optional<Reading> chargers_limiting;
  // For people, not the rules: what said so (a charger in float, a battery held at its setpoint).
  std::string chargers_evidence;

  // What each miner draws by its own account (its API), same index as Profiles::miners; shorter
  // or missing entries: not measured, its rating (or its target) counts instead.
  std::vector<std::optional<Reading>> miner_w;
  // Each miner's hottest sensor by its own account, and the limit it is held to (the owner's
  // overheat_c, else the firmware's own "hot" limit), same index; missing: not known.
  std::vector<std::optional<Reading>> miner_temp_c;
  std::vector<std::optional<double>> miner_temp_limit_c;
  // Each miner's relay still closed after the rules let it go, same index: a soft stop under way
  // (asleep first, the relay after). Its minimum off-time counts from the cut, not the decision:
  // it is there for the power supply. Missing entries: not powered.
  std::vector<bool> miner_powered;
  // A miner whose firmware does not follow its power target (or refuses it), same index: the
  // daemon saw it (daemon/miners/target_watch.hpp), and the rules run it on and off as a miner
  // without one. Missing entries: it follows.
  std::vector<bool> miner_target_ignored;

  // One entry per zone, same index as Profiles::zones.
  std::vector<std::optional<Reading>> zone_temp_c;

  // While the controller's own processor is too hot and the owner has it shed the loads (the
  // shell's host health decides, with hysteresis: rules/host_health.hpp): its temperature and the
  // limit. Miners and heaters go off; fans keep cooling.
  struct ControllerHeat {
    double temp_c = 0;
    double limit_c = 0;
  };
  std::optional<ControllerHeat> controller_overheat;

  // Same index as the AC sources (rules::ac_source); missing entries: nothing known of it. A
  // generator's phases carry its output (what it feeds the inverters, their chargers included).
  std::vector<AcSourceReadings> ac;
  // 1 while a generator feeds the site (the inverter's active AC input is a generator), 0 while
  // none does; missing: not known. The drivers map each device's word to it.
  std::optional<Reading> generator_running;
};

}  // namespace rules
