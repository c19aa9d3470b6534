#pragma once
// The frozen process image for one cycle. Every reading carries the instant it was taken;
// missing is std::nullopt, never 0. The rules decide staleness from `now - as_of`.
#include <optional>
#include <vector>

#include "rules/time.hpp"

namespace rules {

struct Reading {
  double value = 0;
  SteadyTime as_of{};
};

struct Snapshot {
  SteadyTime now{};
  // Minutes since local midnight in the site's timezone, for schedules only. nullopt while the
  // wall clock is not trusted (no RTC and no NTP sync yet): scheduled-only loads then wait.
  std::optional<int> local_minute_of_day;

  // Battery voltage, in the order of preference (registers.md §1.5, §1.4, §2.4):
  std::optional<Reading> monitor_battery_v;  // Victron battery monitor, reg 259, 0.01 V
  std::optional<Reading> gx_battery_v;       // GX system service, reg 840, 0.1 V
  std::optional<Reading> solark_battery_v;   // Sol-Ark reg 183, 0.01 V, at the inverter terminals

  std::optional<Reading> battery_a;       // + = charging (Victron reg 841/261 convention)
  std::optional<Reading> battery_temp_c;  // battery monitor reg 262 or Sol-Ark reg 182
  std::optional<Reading> pv_w;            // total PV production
  // Total AC consumption, *including* the loads shackd switches (Sol-Ark 178, GX 817-819
  // measure it that way). The rules subtract the draw of the loads they have on.
  std::optional<Reading> load_w;

  // One entry per zone, same index as Profiles::zones.
  std::vector<std::optional<Reading>> zone_temp_c;
};

}  // namespace rules
