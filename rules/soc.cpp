#include "rules/soc.hpp"

#include <algorithm>
#include <cmath>

#include "rules/format.hpp"

namespace rules {

std::optional<std::string> check_curve(const VoltageCurve& curve) {
  for (std::size_t i = 0; i < curve.size(); ++i) {
    const auto& p = curve[i];
    if (!std::isfinite(p.v) || !std::isfinite(p.soc_pct)) {
      return "curve[" + std::to_string(i) + "]: voltage and SOC must be finite numbers";
    }
  }
  if (curve.front().soc_pct != 0.0 || curve.back().soc_pct != 100.0) {
    return "curve: must run from 0 % to 100 % (got " + format_fixed(curve.front().soc_pct, 1) +
           " % to " + format_fixed(curve.back().soc_pct, 1) + " %)";
  }
  for (std::size_t i = 1; i < curve.size(); ++i) {
    const auto& a = curve[i - 1];
    const auto& b = curve[i];
    if (!(b.v > a.v) || !(b.soc_pct > a.soc_pct)) {
      return "curve[" + std::to_string(i) + "]: (" + format_fixed(b.v, 2) + " V, " +
             format_fixed(b.soc_pct, 1) + " %) must be above curve[" + std::to_string(i - 1) +
             "] (" + format_fixed(a.v, 2) + " V, " + format_fixed(a.soc_pct, 1) +
             " %): the curve must be strictly increasing";
    }
  }
  return std::nullopt;
}

namespace {
// Linear interpolation of y over x between the two curve points that bracket x.
template <typename X, typename Y>
double interpolate(const VoltageCurve& curve, double x, X get_x, Y get_y) {
  if (x <= get_x(curve.front())) return get_y(curve.front());
  if (x >= get_x(curve.back())) return get_y(curve.back());
  for (std::size_t i = 1; i < curve.size(); ++i) {
    const double x0 = get_x(curve[i - 1]), x1 = get_x(curve[i]);
    if (x <= x1) {
      const double y0 = get_y(curve[i - 1]), y1 = get_y(curve[i]);
      return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
    }
  }
  return get_y(curve.back());
}
}  // namespace

double soc_from_v(const VoltageCurve& curve, double battery_v) {
  const double soc = interpolate(
      curve, battery_v, [](const CurvePoint& p) { return p.v; },
      [](const CurvePoint& p) { return p.soc_pct; });
  return std::clamp(soc, 0.0, 100.0);
}

double v_from_soc(const VoltageCurve& curve, double soc_pct) {
  return interpolate(
      curve, std::clamp(soc_pct, 0.0, 100.0), [](const CurvePoint& p) { return p.soc_pct; },
      [](const CurvePoint& p) { return p.v; });
}

}  // namespace rules
