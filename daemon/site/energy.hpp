#pragma once
// What each load used, per local day (issue 15: "the owner can see what the dump load
// harvested"). Metered where the load's relay reports its own power (Tasmota ENERGY.Power,
// Shelly apower), else its rated draw (a miner's power_w, a heater's heater_power_w) for the time
// it was on. A load with neither (a fan) counts hours, not kWh.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rules/snapshot.hpp"
#include "rules/time.hpp"

namespace shackd {

struct LoadEnergy {
  double wh = 0;          // rated and metered together
  double on_s = 0;        // time on
  double metered_s = 0;   // of on_s, the time a fresh metered power was counted
  double unrated_s = 0;   // of on_s, the time neither a meter nor a rating knew the draw
  bool operator==(const LoadEnergy&) const = default;
};

// How one load draws this cycle.
struct Draw {
  std::string load_id;               // load_state's id: "miner:Dump Load S19 #1"
  bool on = false;                   // as the relay says, or as commanded when it has not said
  std::optional<double> metered_w;   // the relay's own fresh reading
  double rated_w = 0;                // 0: no rating
};

// The site's own flows, counted by the same meter beside the loads (and stored with them, in
// load_energy, under these ids): what the panels made and what went into and out of the battery,
// for Home Assistant's Energy dashboard (issue 17). Measured, never rated: a cycle without a fresh
// reading counts its time as unknown (LoadEnergy::unrated_s), not as 0 W.
inline constexpr const char* kPvFlow = "site:pv";
inline constexpr const char* kBatteryInFlow = "site:battery_in";
inline constexpr const char* kBatteryOutFlow = "site:battery_out";

// This cycle's flows: PV from the snapshot's total (a partial sum counts what was measured), the
// battery's power from the voltage the rules decided on (fresh and plausible) times its current
// (+ = charging), each reading older than `stale_after` unknown.
std::vector<Draw> site_flows(const rules::Snapshot& snap, std::optional<double> battery_v,
                             rules::Duration stale_after);

class EnergyMeter {
 public:
  // A gap longer than this between cycles (a stopped process, a suspended Pi) is not charged:
  // nobody knows what the loads did in it.
  explicit EnergyMeter(rules::Duration max_gap = std::chrono::seconds(60)) : max_gap_(max_gap) {}

  // The day's totals as stored, at a start (a restart does not reset the day).
  void restore(const std::string& day, std::map<std::string, LoadEnergy> totals);

  // One cycle on local date `day`: the time since the previous cycle is charged to each load as
  // it drew then (a load switched on now counts from now). A new day starts from zero; the day
  // that ended is returned with its final totals, to be stored.
  struct Finished {
    std::string day;
    std::map<std::string, LoadEnergy> totals;
  };
  std::optional<Finished> tick(const std::string& day, rules::SteadyTime now, const std::vector<Draw>& draws);

  const std::string& day() const { return day_; }
  const std::map<std::string, LoadEnergy>& totals() const { return totals_; }

 private:
  rules::Duration max_gap_;
  std::string day_;
  std::map<std::string, LoadEnergy> totals_;
  std::optional<rules::SteadyTime> last_;
  std::vector<Draw> drawing_;  // as of `last_`
};

}  // namespace shackd
