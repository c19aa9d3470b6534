#pragma once
// A miner's own numbers against what a miner of its kind and rating can report, before anything
// uses them (the rules' miner_w and temperatures, the soft stop's "asleep", energy, what is
// published): out of range is not available. A firmware that reported -50 W made the day's energy
// negative and stopped every store write; -1e9 W read as "asleep" and 1e308 W was published
// (issue 48). One function per kind's limits, in this file alone: the kinds' own files say how
// they talk, this one what they can say.
#include <optional>
#include <string>
#include <vector>

#include "drivers/miners/miner_api.hpp"
#include "drivers/miners/miner_kind.hpp"

namespace drivers::miners {

struct MinerLimits {
  double max_power_w = 0;       // its draw and its power target, W
  double max_hashrate_ths = 0;  // TH/s
  double min_temp_c = 0, max_temp_c = 0;  // any sensor, and its "hot" limit
  double max_fan_rpm = 0;
};

// The limits of a kind's hardware; `rated_w` (the profile's power_w, when set) narrows the draw
// to what a miner of that rating can draw.
MinerLimits limits_for(const MinerKind& kind, std::optional<double> rated_w);

struct Implausible {
  std::string field;  // "power_w"
  std::string words;  // "-50 W is outside 0-6500 W (a LuxOS miner rated 3250 W)"
};

// Sets every number of `t` outside its kind's limits to not available; returns what it dropped.
std::vector<Implausible> drop_implausible(const MinerKind& kind, std::optional<double> rated_w, Telemetry& t);

}  // namespace drivers::miners
