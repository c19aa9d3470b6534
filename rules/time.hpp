#pragma once
// Time as the rules see it: a monotonic instant passed in by the caller, never read here.
//
// The daemon reads std::chrono::steady_clock once per cycle and hands it over; tests step it
// (`now += 61s`). Schedules use a separate wall-clock field (Snapshot::local_minute_of_day)
// because a Pi without an RTC jumps at NTP sync and durations must not jump with it.
#include <chrono>

namespace rules {

using SteadyTime = std::chrono::steady_clock::time_point;
using Duration = SteadyTime::duration;
using Seconds = std::chrono::seconds;

constexpr double to_seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace rules
