#pragma once
// Whatsminer (MicroBT btminer) API v2, the older firmware (before 2024-11) that the M30- and
// M50-series often still run: plain JSON on TCP 4028, one object each way; reads open; writes
// (power_off, power_on, the power percent) encrypted with a token from the admin password.
// Wire facts and their sources: docs/protocols.md §8.4.
#include <memory>
#include <optional>
#include <string>

#include "drivers/miners/miner_kind.hpp"

namespace drivers::miners {

std::unique_ptr<MinerApi> make_whatsminer_v2(const MinerConfig& config, Exchange exchange);

// The power percent to send for `watts` of a miner rated `rated_w`: whole percent, rounded down
// (never above what was asked), 1 to 100; nullopt when either is not a positive number.
std::optional<int> power_percent(double watts, double rated_w);

// An API version ("2.0.5", "whatsminer v2.0.4") as at least `major.minor.patch`.
bool api_at_least(const std::string& version, int major, int minor, int patch);

}  // namespace drivers::miners
