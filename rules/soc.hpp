#pragma once
// Battery voltage <-> state of charge, piecewise-linear over the 6-point calibration curve.
// SOC is for people to read; no rule decides on it.
#include <optional>
#include <string>

#include "rules/profile.hpp"

namespace rules {

// nullopt when the curve is usable, else why not: strictly increasing in volts and in percent,
// from 0 % to 100 %.
std::optional<std::string> check_curve(const VoltageCurve& curve);

// Clamped to [0, 100]. The curve must have passed check_curve().
double soc_from_v(const VoltageCurve& curve, double battery_v);
// The inverse; soc_pct is clamped to [0, 100] first.
double v_from_soc(const VoltageCurve& curve, double soc_pct);

}  // namespace rules
