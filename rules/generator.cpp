// A load's on_generator policy (issue 59, part 4; docs/guide.md, "On generator power"): while a
// generator feeds the site, `never` keeps a load off, `surplus_only` lets it run only on the sun's
// surplus, `allow` lets it run within the generator's rating (ac_budget.cpp holds that for every
// load, whatever its policy).
//
// The sun's surplus on generator power: PV less the site's consumption without this load (the
// house, and what runs before it this cycle), at least the load's draw. With it the PV covers the
// whole consumption, so the generator feeds none of the load: what it gives goes to the bank.
// It is evcc's "PV" charge mode (charge on the PV surplus only, never from the grid: evcc-io/evcc,
// README, the charge modes) with the generator in the grid's place.
// The battery current says nothing here: the generator charges the bank, so a miner probing for
// hidden surplus would see a charging bank whatever the sun does (miners.cpp turns its probes off).
#include <cmath>

#include "rules/detail.hpp"

namespace rules::detail {

std::optional<Reason> generator_policy(const AcCycle& ac, GeneratorPolicy policy, bool on,
                                       std::optional<double> surplus_w, double draw_w) {
  if (ac.generator == GeneratorState::off || policy == GeneratorPolicy::allow) return std::nullopt;
  std::optional<Reason> r;
  if (ac.generator == GeneratorState::unknown) {
    // Not knowing never permits what knowing could refuse: no start. A load already on stays on:
    // a word lost is no generator started (as a load reading lost is no overload).
    if (on) return std::nullopt;
    r = Reason{ReasonCode::generator_unknown};
  } else if (policy == GeneratorPolicy::never) {
    r = Reason{ReasonCode::generator_never};
  } else {
    // surplus_only: a surplus not known (PV or the load stale, a load sum with a part missing)
    // proves nothing, and a NaN never fits.
    if (surplus_w && std::isfinite(*surplus_w) && *surplus_w >= draw_w) return std::nullopt;
    r = Reason{ReasonCode::generator_surplus, ReasonCode::none, surplus_w.value_or(kNaN), draw_w, {}};
  }
  set_subject(*r, ac.generator_name, 0);
  return r;
}

}  // namespace rules::detail
