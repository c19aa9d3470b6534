#pragma once
// The loop's two clocks, injected: the monotonic one for durations (stale readings, minimum
// on/off times, overrides that expire) and the wall clock for schedules, dates and records.
// Production reads the system; a test steps both by hand.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "rules/snapshot.hpp"

namespace shackd {

class LoopClock {
 public:
  virtual ~LoopClock() = default;
  virtual rules::SteadyTime steady() const = 0;
  virtual std::int64_t wall_ms() const = 0;  // Unix time, milliseconds
  std::int64_t wall_s() const { return wall_ms() / 1000; }
};

// std::chrono::steady_clock and system_clock.
LoopClock& system_clock();

// Minutes since local midnight in the site's timezone (TZ is set to it), or nullopt while the
// wall clock cannot be trusted: a Pi without an RTC boots in 1970 or at its last shutdown time
// until NTP answers; before 2025 is certainly wrong.
std::optional<int> local_minute(std::int64_t wall_s);
// The local date ("2026-11-23") for the energy counted per day; nullopt while not trusted.
std::optional<std::string> local_day(std::int64_t wall_s);

}  // namespace shackd
