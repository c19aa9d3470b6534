#pragma once
// What the rules want this cycle, and why.
#include <cstddef>
#include <optional>
#include <vector>

#include "rules/reason.hpp"
#include "rules/state.hpp"

namespace rules {

// An index into Snapshot::battery_v or ::battery_temp_c; kNoSource when none decided.
inline constexpr int kNoSource = -1;

// Where the battery sits among the nine thresholds (for display and alarms).
enum class Band {
  unknown, shutdown, critical, low, recovering, below_optimal, optimal, above_optimal,
  floating, absorption, full
};

struct BatteryView {
  std::optional<double> measured_v;  // from `source`
  std::optional<double> decide_v;    // load-compensated (equal to measured when R = 0)
  int source = kNoSource;           // which of Snapshot::battery_v decided
  int stale_preferred = kNoSource;  // a better source passed over (voltage_fallback)
  std::optional<double> soc_pct;     // from the curve; shown, never decided on
  Band band = Band::unknown;
};

struct LoadDecision {
  bool on = false;
  bool changed = false;  // differs from prev commanded state
  Reason reason;
  // Off for the battery's, the inputs' or its own safety this cycle (shutdown, restart lockout,
  // critical low, its emergency stop voltage, stale inputs, overheat), whatever it was before and
  // whatever `reason` says: a miner whose API is still winding it down is cut now, not when it
  // reports idle (issue 48). Miners only.
  bool safety_stop = false;
  int fan_speed = 0;     // fans with speed control: 1..max when on
  // Miners with a power target, while on: the target to hold, whether to write it now, and why
  // it is what it is (or why a wanted change waits).
  std::optional<double> target_w;
  bool target_changed = false;
  Reason target_reason;
};

struct ZoneDecision {
  LoadDecision fan;
  LoadDecision heater;
  bool heat_demand = false;
};

struct Decision {
  BatteryView battery;
  std::vector<LoadDecision> miners;  // same index as Profiles::miners
  std::vector<ZoneDecision> zones;
  bool block_charging = false;
  Reason charge_reason;
  // What the charge decision was made on: one of Snapshot::battery_temp_c, else the air of a
  // zone (Profiles::zones index), else neither (unknown: blocked).
  int charge_temp_source = kNoSource;
  int charge_temp_zone = kNoSource;
  std::vector<Reason> alarms;  // voltage disagreement, implausible readings, ...
  State next;
};

}  // namespace rules
