// HVAC zones: exhaust fans on temperature with hysteresis, and heating by miner or heater.
#include <algorithm>
#include <cmath>

#include "rules/detail.hpp"

namespace rules::detail {

namespace {

bool zone_temp_never_seen(const Snapshot& snap, std::size_t i) {
  return i >= snap.zone_temp_c.size() || !snap.zone_temp_c[i];
}

std::optional<double> zone_temp(const Snapshot& snap, const SiteProfile& site, std::size_t i) {
  if (i >= snap.zone_temp_c.size()) return std::nullopt;
  return fresh_value(snap.zone_temp_c[i], snap.now, site.temperature_stale_after);
}

// Off at once for every load: a latched low-voltage lockout, or the battery below critical_low.
std::optional<Reason> site_force_off(const Decision& out, const Thresholds& t) {
  const std::optional<double> v = out.battery.decide_v;
  if (out.next.site.lockout) {
    if (v && *v <= t.shutdown_v) return Reason{ReasonCode::shutdown, ReasonCode::none, *v, t.shutdown_v, {}};
    return Reason{ReasonCode::restart_lockout, ReasonCode::none, v.value_or(kNaN), t.restart_v, {}};
  }
  if (v && *v < t.critical_low_v) return Reason{ReasonCode::critical_low, ReasonCode::none, *v, t.critical_low_v, {}};
  return std::nullopt;
}

// Whether a heater could run now, ignoring its timers: used to pick the heat source.
bool heater_can_run(const Snapshot& snap, const Profiles& p, const ZoneProfile& z, const ZoneState& zs,
                    const Decision& out) {
  if (!z.enabled || !z.has_heater || zs.heater.override_.mode == OverrideMode::off) return false;
  if (site_force_off(out, p.site.thresholds)) return false;
  const auto pv = at_least(fresh_value(snap.pv_w, snap.now, p.site.electrical_stale_after), snap.pv_w_partial,
                           z.minimum_solar_for_heating_w);
  const auto v = out.battery.decide_v;
  const double limit = zs.heater.on ? p.site.thresholds.low_v : heater_start_v(p.site, z);
  return pv && *pv >= z.minimum_solar_for_heating_w && v && *v >= limit;
}

int fan_speed(const ZoneProfile& z, std::optional<double> temp) {
  if (!z.fan_speed_control) return 0;
  if (!temp) return z.fan_max_speed;  // unknown temperature: full cooling
  // Linear from 1 at hot_ok to max at too_hot, so a fan that just came on is not at full noise.
  const double frac = (*temp - z.hot_ok_c) / (z.too_hot_c - z.hot_ok_c);
  const double speed = std::ceil(frac * z.fan_max_speed);
  return static_cast<int>(std::clamp(speed, 1.0, static_cast<double>(z.fan_max_speed)));
}

// The sun's surplus left for zone i's heater on generator power (generator.cpp): PV less the
// measured load, its own draw given back while it is on, less the loads started this cycle (not
// in the measured load yet). A partial PV sum can only make it smaller; a partial load, unknown.
std::optional<double> heater_surplus_w(const Snapshot& snap, const Profiles& p, std::size_t i, const Decision& out) {
  const Duration max_age = p.site.electrical_stale_after;
  const auto pv = fresh_value(snap.pv_w, snap.now, max_age);
  const auto load = snap.load_w_partial ? std::nullopt : fresh_value(snap.load_w, snap.now, max_age);
  if (!pv || !load) return std::nullopt;
  double w = *pv - *load;
  if (i < out.next.zones.size() && out.next.zones[i].heater.on) w += p.zones[i].heater_power_w;
  for (std::size_t k = 0; k < out.miners.size() && k < p.miners.size(); ++k) {
    if (out.miners[k].changed && out.miners[k].on) w -= miner_start_draw_w(p.miners[k]);
  }
  for (std::size_t j = 0; j < i && j < out.zones.size(); ++j) {
    if (out.zones[j].heater.changed && out.zones[j].heater.on) w -= p.zones[j].heater_power_w;
  }
  return w;
}

void decide_heater(const Snapshot& snap, const Profiles& p, std::size_t i, AcCycle& ac, Decision& out) {
  const ZoneProfile& z = p.zones[i];
  ZoneState& zs = out.next.zones[i];
  LoadState& st = zs.heater;
  const SiteProfile& site = p.site;
  const SteadyTime now = snap.now;
  const auto temp = zone_temp(snap, site, i);
  // A partial PV sum (a device offline) counts where it reaches the heater's minimum.
  const auto pv = at_least(fresh_value(snap.pv_w, now, site.electrical_stale_after), snap.pv_w_partial,
                           z.minimum_solar_for_heating_w);
  const auto v = out.battery.decide_v;
  expire_override(now, st);

  const bool miner_first = z.heating_priority[0] == HeatSource::miner;
  const bool heater_named = z.heating_priority[0] == HeatSource::heater || z.heating_priority[1] == HeatSource::heater;
  const bool miner_heats = miner_first && z.heat_miner && miner_can_heat(out.miners[*z.heat_miner]);
  const bool demand = temp && zs.heat_demand;
  const bool wants = demand && heater_named && !miner_heats;
  const bool stale = !temp || ((wants || st.on) && (!pv || !v));
  if (!stale) st.stale_since.reset();

  LoadInputs in;
  if (!z.enabled) {
    in.force_off = Reason{ReasonCode::disabled};
  } else if (auto off = site_force_off(out, site.thresholds)) {
    in.force_off = off;
  } else if (snap.controller_overheat) {
    in.force_off = Reason{ReasonCode::controller_overheat, ReasonCode::none, snap.controller_overheat->temp_c,
                          snap.controller_overheat->limit_c, {}};
  } else if (const auto shed = ac.shed(LoadKind::heater, i)) {
    in.force_off = *shed;  // its source is overloaded and every miner on it is already off
  } else if (const auto gen = ac.generator == GeneratorState::off
                                   ? std::nullopt
                                   : generator_policy(ac, z.heater_on_generator, st.on, heater_surplus_w(snap, p, i, out),
                                                      z.heater_power_w)) {
    in.force_off = *gen;  // its owner's policy on generator power (by default it is allowed)
  } else if (st.override_.mode == OverrideMode::off) {
    in.force_off = Reason{ReasonCode::override_off};
  } else if (stale) {
    const bool no_voltage_ever = !any_reading(snap.battery_v);
    const bool never_seen = zone_temp_never_seen(snap, i) || ((wants || st.on) && (!snap.pv_w || no_voltage_ever));
    apply_stale_policy(z.heater_stale_policy, now, site.stale_hold_max, never_seen, site.hvac_timing, st, in);
  } else if (st.override_.mode == OverrideMode::on) {
    in.force_on = Reason{ReasonCode::override_on};
  } else {
    in.running_reason = {ReasonCode::heating, ReasonCode::none, *temp, z.cold_ok_c, {}};
    Reason block;
    if (!demand || !heater_named) {
      block = {ReasonCode::idle, ReasonCode::none, *temp, z.too_cold_c, {}};
    } else if (miner_heats) {
      block = {ReasonCode::heat_by_miner};
    } else if (*pv < z.minimum_solar_for_heating_w) {
      block = {ReasonCode::insufficient_solar, ReasonCode::none, *pv, z.minimum_solar_for_heating_w, {}};
    } else if (*v < heater_start_v(site, z)) {
      block = {ReasonCode::below_start_voltage, ReasonCode::none, *v, heater_start_v(site, z), {}};
    }
    in.start_ok = block.code == ReasonCode::none;
    in.not_startable = block;
    // Once running it stops below voltage_low, not below its start limit: the gap is its own sag.
    Reason stop = block;
    // A heater that stops because its zone is warm stopped at cold_ok, not at too_cold.
    if (block.code == ReasonCode::idle) stop.limit = z.cold_ok_c;
    if (block.code == ReasonCode::below_start_voltage) {
      stop = *v < site.thresholds.low_v
                 ? Reason{ReasonCode::below_stop_voltage, ReasonCode::none, *v, site.thresholds.low_v, {}}
                 : Reason{};
    }
    in.stop_condition = stop.code != ReasonCode::none;
    in.stop_reason = stop;
  }
  step_load(StepContext{now, site.hvac_timing, out.next.site, true, site.stagger, &ac, z.heater_feed, z.heater_power_w,
                        z.heater_power_w},  // a resistive heater starts at its rating
            in, st, out.zones[i].heater);
}

void decide_fan(const Snapshot& snap, const Profiles& p, std::size_t i, Decision& out) {
  const ZoneProfile& z = p.zones[i];
  ZoneState& zs = out.next.zones[i];
  LoadState& st = zs.fan;
  const SiteProfile& site = p.site;
  const SteadyTime now = snap.now;
  const auto temp = zone_temp(snap, site, i);
  expire_override(now, st);
  if (temp) st.stale_since.reset();

  LoadInputs in;
  if (!z.enabled) {
    in.force_off = Reason{ReasonCode::disabled};
  } else if (auto off = site_force_off(out, site.thresholds)) {
    in.force_off = off;
  } else if (z.block_charging_below_c && out.block_charging) {
    // Cold-charge protection: do not blow cold air over a battery that is too cold to charge.
    in.force_off = Reason{ReasonCode::cold_charge_block, ReasonCode::none, temp.value_or(kNaN),
                          *z.block_charging_below_c, {}};
  } else if (st.override_.mode == OverrideMode::off) {
    in.force_off = Reason{ReasonCode::override_off};
  } else if (!temp) {
    apply_stale_policy(z.fan_stale_policy, now, site.stale_hold_max, zone_temp_never_seen(snap, i), site.hvac_timing,
                       st, in);
  } else if (st.override_.mode == OverrideMode::on) {
    in.force_on = Reason{ReasonCode::override_on};
  } else {
    in.running_reason = {ReasonCode::too_hot, ReasonCode::none, *temp, z.too_hot_c, {}};
    in.start_ok = zs.fan_demand;
    in.not_startable = {ReasonCode::idle, ReasonCode::none, *temp, z.too_hot_c, {}};
    in.stop_condition = !zs.fan_demand;
    in.stop_reason = {ReasonCode::idle, ReasonCode::none, *temp, z.hot_ok_c, {}};
  }
  // Fans draw tens of watts: they are not held back by the inrush stagger.
  LoadDecision& d = out.zones[i].fan;
  step_load(StepContext{now, site.hvac_timing, out.next.site, false, site.stagger}, in, st, d);
  d.fan_speed = d.on ? fan_speed(z, temp) : 0;
}

}  // namespace

void update_zone_demand(const Snapshot& snap, const Profiles& p, Decision& out) {
  for (std::size_t i = 0; i < p.zones.size(); ++i) {
    const ZoneProfile& z = p.zones[i];
    ZoneState& zs = out.next.zones[i];
    const auto temp = zone_temp(snap, p.site, i);
    if (temp) {  // a stale temperature leaves both latches where they were
      if (*temp >= z.too_hot_c) zs.fan_demand = true;
      else if (*temp <= z.hot_ok_c) zs.fan_demand = false;
      if (*temp <= z.too_cold_c) zs.heat_demand = true;
      else if (*temp >= z.cold_ok_c) zs.heat_demand = false;
    }
    out.zones[i].heat_demand = temp && zs.heat_demand;
  }
}

HeatCalls heat_calls(const Snapshot& snap, const Profiles& p, const Decision& out) {
  HeatCalls calls;
  for (std::size_t i = 0; i < p.zones.size(); ++i) {
    const ZoneProfile& z = p.zones[i];
    if (!z.enabled || !out.zones[i].heat_demand || !z.heat_miner || *z.heat_miner >= kMaxMiners) continue;
    const auto& prio = z.heating_priority;
    const bool miner_first = prio[0] == HeatSource::miner;
    const bool miner_fallback = prio[0] == HeatSource::heater && prio[1] == HeatSource::miner &&
                                !heater_can_run(snap, p, z, out.next.zones[i], out);
    if (miner_first || miner_fallback) calls.call[*z.heat_miner] = true;
  }
  return calls;
}

HeaterRoom reserve_heater_room(const Snapshot& snap, const Profiles& p, const HeatCalls& heat, const Decision& out,
                               AcCycle& ac) {
  HeaterRoom room;
  for (std::size_t i = 0; i < p.zones.size() && room.count < room.held.size(); ++i) {
    const ZoneProfile& z = p.zones[i];
    const ZoneState& zs = out.next.zones[i];
    if (!z.enabled || !z.has_heater || zs.heater.on || !out.zones[i].heat_demand) continue;
    if (z.heat_miner && *z.heat_miner < kMaxMiners && heat.call[*z.heat_miner]) continue;  // its miner heats it
    if (!heater_can_run(snap, p, z, zs, out) || !(z.heater_power_w > 0)) continue;
    // Only a heater its owner's policy lets start on the source it is on now (generator.cpp): on
    // generator power one that is `never`, `surplus_only` short of the sun, or waiting for the
    // generator's state, would hold room it will not take while a miner waits for nothing. Its
    // surplus is the one its own start will see: less the heaters held room before it.
    if (ac.generator != GeneratorState::off) {
      std::optional<double> surplus_w = heater_surplus_w(snap, p, i, out);
      for (std::size_t k = 0; surplus_w && k < room.count; ++k) *surplus_w -= room.held[k].w;
      if (generator_policy(ac, z.heater_on_generator, false, surplus_w, z.heater_power_w)) continue;
    }
    if (const auto held = ac.hold(z.heater_feed, z.heater_power_w, z.heater_power_w)) {
      // No room now: the running discretionary miners on its phase make it, where they can and
      // its start is due this cycle (dwell, min off, max starts, stagger: else a miner would stop
      // for a heater that does not start); else the miners take nothing of it.
      if (!start_due(snap.now, p.site.hvac_timing, out.next.site, p.site.stagger, zs.heater) ||
          !make_heater_room(p, out.next, heat, z.name, z.heater_feed, z.heater_power_w, *held, ac)) {
        continue;
      }
    }
    ac.commit(z.heater_feed, z.heater_power_w, z.heater_power_w);
    room.held[room.count++] = {z.heater_feed, z.heater_power_w};
  }
  return room;
}

void release_heater_room(const HeaterRoom& room, AcCycle& ac) {
  for (std::size_t i = 0; i < room.count; ++i) ac.commit(room.held[i].feed, -room.held[i].w, -room.held[i].w);
}

void decide_zones(const Snapshot& snap, const Profiles& p, const State& /*prev*/, AcCycle& ac, Decision& out) {
  for (std::size_t i = 0; i < p.zones.size(); ++i) {
    if (p.zones[i].has_heater) decide_heater(snap, p, i, ac, out);
    if (p.zones[i].has_fan) decide_fan(snap, p, i, out);
  }
}

}  // namespace rules::detail

namespace rules {

double own_sag_v(double power_w, double bank_v, double internal_resistance_ohm) {
  if (!(power_w > 0) || !(bank_v > 0) || !(internal_resistance_ohm > 0)) return 0;
  return power_w / bank_v * internal_resistance_ohm;
}

double heater_start_v(const SiteProfile& site, const ZoneProfile& zone) {
  const double low = site.thresholds.low_v;
  return low + std::max(site.load_start_margin_v, own_sag_v(zone.heater_power_w, low, site.internal_resistance_ohm));
}

}  // namespace rules
