#pragma once
// The afternoon both surplus benchmarks run (bench/surplus_share: the rules against a plant of
// our own; bench/surplus_site: the simulated site through the whole daemon), and what they report.
#include <fmt/format.h>

#include <cmath>

namespace bench {

// What the panels could give at `minute` after midnight: a clear 10 kWp day from 07:00 to 19:00,
// with a passing cloud (40 % for 20 minutes) at 13:30 and a thin overcast from 15:00.
inline double panels_w(double minute) {
  const double x = (minute - 7 * 60) / (12 * 60);
  if (x <= 0 || x >= 1) return 0;
  double w = 10000 * std::sin(x * M_PI);
  if (minute >= 13 * 60 + 30 && minute < 13 * 60 + 50) w *= 0.4;
  if (minute >= 15 * 60) w *= 0.7;
  return w;
}

struct SurplusResult {
  double hidden_kwh = 0;   // what a 3600 W load could have taken from PV the chargers held back
  double used_kwh = 0;     // what the miner took from PV
  double battery_ah = 0;   // what the battery paid
  int starts = 0, stops = 0, writes = 0;
  double hours = 6;
};

inline void print(const char* name, const SurplusResult& r) {
  fmt::print("{:<40} hidden {:5.2f} kWh  used {:5.2f} kWh ({:3.0f} %)  battery paid {:5.2f} Ah  starts {}  stops {}  "
             "target writes {:4.1f}/h\n",
             name, r.hidden_kwh, r.used_kwh, 100 * r.used_kwh / r.hidden_kwh, r.battery_ah, r.starts, r.stops,
             r.writes / r.hours);
}

}  // namespace bench
