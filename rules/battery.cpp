// Battery voltage: which source to believe, how far to trust it, what band it is in, and
// whether the battery is too cold to charge.
#include <algorithm>
#include <cmath>

#include "rules/detail.hpp"
#include "rules/soc.hpp"

namespace rules::detail {

Band band_of(const Thresholds& t, double v) {
  if (v <= t.shutdown_v) return Band::shutdown;
  if (v < t.critical_low_v) return Band::critical;
  if (v < t.low_v) return Band::low;
  if (v < t.restart_v) return Band::recovering;
  if (v < t.optimal_min_v) return Band::below_optimal;
  if (v <= t.optimal_max_v) return Band::optimal;
  if (v < t.float_v) return Band::above_optimal;
  if (v < t.absorption_v) return Band::floating;
  if (v < t.full_v) return Band::absorption;
  return Band::full;
}

void assess_battery(const Snapshot& snap, const SiteProfile& site, BatteryView& out, std::vector<Reason>& alarms) {
  out = BatteryView{};
  double lo = 0, hi = 0;
  int fresh_count = 0;
  bool skipped_preferred = false;
  for (std::size_t i = 0; i < snap.battery_v.size(); ++i) {
    const int id = static_cast<int>(i);
    const auto& r = snap.battery_v[i].reading;
    if (!fresh(r, snap.now, site.electrical_stale_after)) {
      if (r && out.source == kNoSource) {
        if (!skipped_preferred) out.stale_preferred = id;
        skipped_preferred = true;
      }
      continue;
    }
    const double v = r->value;
    if (!(v >= site.plausible_min_v && v <= site.plausible_max_v)) {
      alarms.push_back({ReasonCode::implausible_reading, ReasonCode::none, v, site.plausible_min_v, {}});
      if (out.source == kNoSource) {
        if (!skipped_preferred) out.stale_preferred = id;
        skipped_preferred = true;
      }
      continue;
    }
    if (fresh_count == 0) {
      lo = hi = v;
      out.source = id;
      out.measured_v = v;
    } else {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    ++fresh_count;
  }
  if (fresh_count == 0) {
    alarms.push_back({ReasonCode::no_voltage, ReasonCode::none, kNaN, kNaN, {}});  // no number to show
    return;
  }
  if (skipped_preferred) alarms.push_back({ReasonCode::voltage_fallback, ReasonCode::none, kNaN, kNaN, {}});
  if (hi - lo > site.source_disagreement_v) {
    alarms.push_back({ReasonCode::voltage_disagreement, ReasonCode::none, hi - lo, site.source_disagreement_v, {}});
  }

  // Load compensation: under discharge the terminal voltage sags by I*R; adding it back keeps a
  // load's own start from tripping its own stop. battery_a is + when charging.
  double v = *out.measured_v;
  if (site.internal_resistance_ohm > 0) {
    if (auto amps = fresh_value(snap.battery_a, snap.now, site.electrical_stale_after)) {
      v -= *amps * site.internal_resistance_ohm;
    }
  }
  out.decide_v = v;
  out.soc_pct = soc_from_v(site.curve, v);
  out.band = band_of(site.thresholds, v);
  // Every load is off in these bands, and the owner must hear of it as a fault, not a reason
  // among others: an alarm while it lasts (the log's warning, shack/state, HA's problem sensor).
  if (out.band == Band::shutdown) {
    alarms.push_back({ReasonCode::shutdown, ReasonCode::none, v, site.thresholds.shutdown_v, {}});
  } else if (out.band == Band::critical) {
    alarms.push_back({ReasonCode::critical_low, ReasonCode::none, v, site.thresholds.critical_low_v, {}});
  }
}

void update_lockout(const BatteryView& battery, const Thresholds& t, SiteState& site) {
  if (!battery.decide_v) return;  // unknown voltage neither sets nor clears it
  const double v = *battery.decide_v;
  if (v <= t.shutdown_v) {
    site.lockout = true;
  } else if (site.lockout && v >= t.restart_v) {
    site.lockout = false;
  }
}

void assess_charging(const Snapshot& snap, const Profiles& p, const SiteState& prev, Decision& out) {
  const SiteProfile& site = p.site;
  out.block_charging = false;
  out.charge_reason = {};
  out.charge_temp_source = out.charge_temp_zone = kNoSource;
  // The battery's own sensors first, in the owner's order; the first fresh one decides.
  std::optional<double> battery_temp;
  for (std::size_t i = 0; i < snap.battery_temp_c.size() && !battery_temp; ++i) {
    battery_temp = fresh_value(snap.battery_temp_c[i].reading, snap.now, site.temperature_stale_after);
    if (battery_temp) out.charge_temp_source = static_cast<int>(i);
  }
  // Each zone that holds a battery sets a limit; any one of them blocks.
  for (std::size_t i = 0; i < p.zones.size(); ++i) {
    const auto& limit = p.zones[i].block_charging_below_c;
    if (!limit) continue;
    // The air of the zone that holds the battery is the fallback.
    std::optional<double> temp = battery_temp;
    if (!temp && i < snap.zone_temp_c.size()) {
      temp = fresh_value(snap.zone_temp_c[i], snap.now, site.temperature_stale_after);
      if (temp) out.charge_temp_zone = static_cast<int>(i);
    }
    if (!temp) {
      // Charging a frozen LiFePO4 cell plates lithium; not knowing is treated as too cold.
      out.block_charging = true;
      out.charge_reason = {ReasonCode::battery_temp_unknown, ReasonCode::none, {}, *limit, {}};
      return;
    }
    const double release = prev.charge_blocked ? *limit + site.block_charging_hysteresis_c : *limit;
    if (*temp < release) {
      out.block_charging = true;
      out.charge_reason = {ReasonCode::battery_too_cold, ReasonCode::none, *temp, release, {}};
      return;
    }
    out.charge_reason = {ReasonCode::charge_ok, ReasonCode::none, *temp, release, {}};
  }
}

}  // namespace rules::detail
