#pragma once
// Shadow mode's day in figures (issue 60 part 1): for each load, the spells in which shackd's
// decision differed from what its relay reported, and what they cost or would have gained, from
// the day's minute telemetry and the load's rated draw. Pure: a read day in, figures out.
//
// The model, said once (and in the guide): within a spell the load draws its rated watts (a miner's
// power_w, a heater's heater_power_w; a fan has no rating and counts time only). Each minute's
// surplus is the PV above the rest of the site, max(0, pv_w - (load_w - the load's draw if the
// relay had it on)); what the load draws comes from that surplus first and from the bank for the
// rest, in amperes at the minute's average battery voltage. A minute without PV, load or voltage
// counts its time and no energy (said as minutes not costed).
#include <cstdint>
#include <string>
#include <vector>

#include "daemon/report/day.hpp"
#include "daemon/site/profiles.hpp"

namespace shackd::report {

struct ShadowSide {
  int spells = 0;                 // disagreements of this direction
  double minutes = 0;             // their length within the day
  double surplus_kwh = 0;         // of the load's draw, what the surplus covered
  double battery_ah = 0;          // of the load's draw, what the bank gave
  double minutes_under_stop = 0;  // minutes whose lowest voltage was below the load's stop voltage
  double minutes_not_costed = 0;  // minutes with no telemetry to cost them
};

struct ShadowTally {
  std::string id, name;
  double rated_w = 0;  // 0: no rating (a fan): time only
  // shackd would have had it ON where the relay was OFF: what it would have used.
  ShadowSide would_run;
  // The relay was ON where shackd would have had it OFF: what the other controller spent.
  ShadowSide ran_instead;
  bool any() const { return would_run.spells + ran_instead.spells > 0; }
};

// One line a load that disagreed at least once this day, in the day's load order. `candidate`: the
// candidate profile's differences with the profiles in force (LoadLine::candidate), costed the
// same way: "would run" is the candidate's ON where the profiles in force had it OFF.
std::vector<ShadowTally> shadow_tally(const Day& day, const StoredProfiles& profiles, bool candidate = false);

// The tally as lines for people (`shackd report`): one header line, then one line a load.
std::vector<std::string> shadow_tally_lines(const std::vector<ShadowTally>& tally, bool candidate = false);

}  // namespace shackd::report
