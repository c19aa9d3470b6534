#pragma once
// The built-in demo day: the Solar Shack's defaults driven by a small battery/PV/room model for
// 24 hours in 30 s steps, printing every decision change. It stands in for the full demo until
// the simulator and daemon exist.
#include <cstdio>

namespace shackd {

struct DemoDayResult {
  int primary_starts = 0;
  int dump_starts = 0;
  double min_battery_v = 0;
  double max_battery_v = 0;
};

DemoDayResult run_demo_day(std::FILE* out);

}  // namespace shackd
