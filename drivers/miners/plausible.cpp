#include "drivers/miners/plausible.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace drivers::miners {

namespace {

// What the hardware each firmware runs on can report. These firmwares run single ASIC machines
// (Antminer S9-S21, Whatsminer M-series) rated at a few kW, hydro models included (an S21+ Hydro is
// sold as 4,785 W and 319 TH/s in resellers' copies of Bitmain's sheet); chips report up to about
// 125 °C before a firmware's own shutdown, and below 0 °C only in a cold room. The ceilings keep a
// wide margin above any of those: they catch a unit's mistake (mW for W, GH/s for TH/s), a
// sentinel or garbage, not a model; the profile's rating narrows the draw (limits_for).
MinerLimits hardware_limits(const MinerKind& kind) {
  MinerLimits l{.max_power_w = 15000, .max_hashrate_ths = 2000, .min_temp_c = -40, .max_temp_c = 150, .max_fan_rpm = 30000};
  // One set of limits fits every kind today; a kind whose hardware differs gets its own here.
  (void)kind;
  return l;
}

std::string label(const MinerKind& kind, std::optional<double> rated_w) {
  std::string s = fmt::format("a {} miner", kind.label);
  if (rated_w && *rated_w > 0) s += fmt::format(" rated {:.0f} W", *rated_w);
  return s;
}

}  // namespace

MinerLimits limits_for(const MinerKind& kind, std::optional<double> rated_w) {
  MinerLimits l = hardware_limits(kind);
  // A miner overclocked or on a higher power target draws more than its rating, not twice it and a
  // kilowatt more: past that the figure is not its draw.
  if (rated_w && *rated_w > 0) l.max_power_w = std::min(l.max_power_w, std::max(2 * *rated_w, *rated_w + 1000));
  return l;
}

std::vector<Implausible> drop_implausible(const MinerKind& kind, std::optional<double> rated_w, Telemetry& t) {
  const MinerLimits l = limits_for(kind, rated_w);
  std::vector<Implausible> out;
  const auto check = [&](const char* field, std::optional<double>& v, double lo, double hi, const char* unit) {
    if (!v) return;
    if (std::isfinite(*v) && *v >= lo && *v <= hi) return;
    out.push_back({field, fmt::format("{:g} {} is outside {:g}-{:g} {} ({})", *v, unit, lo, hi, unit, label(kind, rated_w))});
    v.reset();
  };
  check("power_w", t.power_w, 0, l.max_power_w, "W");
  check("power_target_w", t.power_target_w, 0, l.max_power_w, "W");
  check("hashrate_ths", t.hashrate_ths, 0, l.max_hashrate_ths, "TH/s");
  check("max_temp_c", t.max_temp_c, l.min_temp_c, l.max_temp_c, "°C");
  check("hot_temp_c", t.hot_temp_c, 0, l.max_temp_c, "°C");
  check("fan_rpm", t.fan_rpm, 0, l.max_fan_rpm, "rpm");
  return out;
}

}  // namespace drivers::miners
