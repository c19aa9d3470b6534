#pragma once
// What the rules remember between cycles. It goes in as `prev` and comes out as `next`;
// the daemon persists it (a restart must not flap a relay) and sets overrides in it.
#include <array>
#include <cstddef>
#include <optional>
#include <vector>

#include "rules/profile.hpp"
#include "rules/time.hpp"

namespace rules {

enum class OverrideMode { automatic, on, off };

struct Override {
  OverrideMode mode = OverrideMode::automatic;
  std::optional<SteadyTime> until;  // nullopt = until cleared
};

// Start instants within the last hour, for max_starts_per_hour. Fixed size: no allocation.
struct StartLog {
  std::array<SteadyTime, kMaxStartsPerHour> at{};
  std::size_t count = 0;  // entries in use, oldest first
  int in_last_hour(SteadyTime now) const;
  void record(SteadyTime now);
};

struct LoadState {
  bool on = false;                          // commanded state
  std::optional<SteadyTime> last_change;    // nullopt: never switched (min on/off satisfied)
  std::optional<SteadyTime> start_cond_since;  // dwell timers
  std::optional<SteadyTime> stop_cond_since;
  std::optional<SteadyTime> pv_ok_since;       // for require_sunny
  std::optional<SteadyTime> stale_since;       // for the "hold" policy's limit
  StartLog starts;
  Override override_;
  // Hidden surplus (miners): a probe under way since, the charge it has cost, and the backoff.
  std::optional<SteadyTime> probe_since;
  std::optional<SteadyTime> probe_sampled_at;
  double probe_ah = 0;
  bool on_hidden_surplus = false;  // a probe held: runs while the battery does not discharge
  std::optional<SteadyTime> probe_next;  // no probe before
  Duration probe_backoff{0};
  // A miner that follows the surplus: the target it was last given, and when (write limits).
  std::optional<double> target_w;
  std::optional<SteadyTime> target_written_at;
  bool target_probed = false;  // the last write was a probe's raise
  double target_probe_step_w = 0;  // the next probe's raise (doubles while they hold; 0: one step)
  std::optional<double> target_least_surplus_w;  // the least measured surplus since the last write
  // Since when the battery has paid more than the probe's limit while it follows a target: the
  // target falls at once, and past kTargetPayStop the miner is stopped (the rules' own bound on a
  // miner that cannot ramp down as fast as a cloud comes).
  std::optional<SteadyTime> target_paying_since;
  // A miner that reached its temperature limit: kept off until then (and until it reads cooler).
  std::optional<SteadyTime> overheat_until;
  // A miner stopped below its emergency stop voltage: its reason stays emergency_stop while the
  // battery stays below it (it said below_start_voltage from the second cycle on, which read as
  // an ordinary stop: issue 48).
  bool emergency_stopped = false;
};

// The load lost its power (its relay restarted after a power cut, issue 56): OFF since
// `off_since` (a load already OFF keeps the later of its own and this), its dwell timers, probe
// and power target forgotten, so that it earns its start again: start condition and delay,
// min_off from `off_since`, the stagger. What it counted (its starts this hour, its override, an
// overheat or emergency latch) stands.
void lose_power(LoadState& st, SteadyTime off_since);

struct ZoneState {
  LoadState fan;
  LoadState heater;
  bool fan_demand = false;   // hysteresis latch: set at too_hot, cleared at hot_ok
  bool heat_demand = false;  // set at too_cold, cleared at cold_ok
};

// One phase of an AC source (rules/ac_budget.cpp). Not persisted: after a restart an overload
// shows again in the source's own warning, or not at all.
struct AcPhaseState {
  std::optional<SteadyTime> over_since;   // measured load above the continuous rating since
  std::optional<SteadyTime> overload_at;  // the last cycle it was overloaded (warning, alarm or tolerance)
};

struct SiteState {
  bool lockout = false;  // set at shutdown, cleared at restart_v
  // The last staggered start, site-wide: one start per stagger interval on the whole site, so
  // also on each AC source.
  std::optional<SteadyTime> last_start;
  bool charge_blocked = false;
  std::array<std::array<AcPhaseState, kMaxAcPhases>, kMaxAcSources> ac{};
};

struct State {
  SiteState site;
  std::vector<LoadState> miners;  // same index as Profiles::miners
  std::vector<ZoneState> zones;   // same index as Profiles::zones
};

}  // namespace rules
