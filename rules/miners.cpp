// Miners in priority order: voltage protection first, then schedule, solar and surplus.
#include <algorithm>

#include "rules/detail.hpp"

namespace rules::detail {

namespace {

using Effective = EffectiveThresholds;

// Miner indexes sorted by (priority, position): fixed storage, no allocation.
struct Order {
  std::array<std::size_t, kMaxMiners> idx{};
  std::size_t n = 0;
};
Order priority_order(const std::vector<MinerProfile>& miners) {
  Order o;
  o.n = std::min(miners.size(), kMaxMiners);
  for (std::size_t i = 0; i < o.n; ++i) o.idx[i] = i;
  // Insertion sort: stable, and unlike std::stable_sort it never asks for a buffer.
  for (std::size_t i = 1; i < o.n; ++i) {
    const std::size_t k = o.idx[i];
    std::size_t j = i;
    for (; j > 0 && miners[o.idx[j - 1]].priority > miners[k].priority; --j) o.idx[j] = o.idx[j - 1];
    o.idx[j] = k;
  }
  return o;
}

// What a miner that is on draws: its own measurement when fresh, else its power target, else
// its rating.
double miner_draw_w(const Snapshot& snap, const MinerProfile& m, const LoadState& st, std::size_t i, Duration max_age) {
  if (i < snap.miner_w.size()) {
    if (const auto w = fresh_value(snap.miner_w[i], snap.now, max_age)) return *w;
  }
  if (m.target && st.target_w) return *st.target_w;
  return m.power_w;
}

// A miner that reached its temperature limit stays off this long at least. Its firmware only saves
// itself at its "dangerous" limit (it shuts down there; which firmware, cited: docs/protocols.md): at
// "hot" its fans already run at 100 % and the room around it is what cooks. Ten minutes lets a cut
// miner's boards and the room's air cool before it heats them again; the start limits still apply.
constexpr Duration kOverheatCooldown = std::chrono::minutes(10);
// And after it, a miner that still answers must read this far below its limit.
constexpr double kOverheatHysteresisC = 5;

// The miner's hottest sensor (fresh) and its limit, where both are known.
struct Heat {
  std::optional<double> temp_c, limit_c;
  bool at_limit() const { return temp_c && limit_c && *temp_c >= *limit_c; }
  bool cooled() const { return !temp_c || !limit_c || *temp_c <= *limit_c - kOverheatHysteresisC; }
};
Heat miner_heat(const Snapshot& snap, std::size_t i, Duration max_age) {
  Heat h;
  if (i < snap.miner_temp_c.size()) h.temp_c = fresh_value(snap.miner_temp_c[i], snap.now, max_age);
  if (i < snap.miner_temp_limit_c.size()) h.limit_c = snap.miner_temp_limit_c[i];
  return h;
}

}  // namespace

bool miner_can_heat(const LoadDecision& d) {
  switch (d.reason.code) {
    case ReasonCode::start_delay_pending:
    case ReasonCode::min_off_pending:
    case ReasonCode::stagger_wait:
      return true;
    default:
      return d.on;
  }
}

void decide_miners(const Snapshot& snap, const Profiles& p, const HeatCalls& heat, const State& prev, AcCycle& ac,
                   Decision& out) {
  const SiteProfile& site = p.site;
  const SteadyTime now = snap.now;
  const std::optional<double> v = out.battery.decide_v;
  const std::optional<double> pv_sum = fresh_value(snap.pv_w, now, site.electrical_stale_after);
  // A partial load is a lower bound: surplus needs its upper bound, so it proves nothing.
  const std::optional<double> load =
      snap.load_w_partial ? std::nullopt : fresh_value(snap.load_w, now, site.electrical_stale_after);

  // The house's own load: the measured total less the miners we had on, each by what it says it
  // draws, else its target, else its rating. Clamped, because a miner commanded on may not be
  // drawing yet.
  std::optional<double> house_w;
  if (load) {
    double w = *load;
    for (std::size_t i = 0; i < p.miners.size() && i < prev.miners.size(); ++i) {
      if (prev.miners[i].on) w -= miner_draw_w(snap, p.miners[i], prev.miners[i], i, site.electrical_stale_after);
    }
    house_w = std::max(0.0, w);
  }

  // Hidden surplus: the chargers say they hold PV back. One probe at a time: a second miner
  // stacks on a first only once the first has held.
  const std::optional<double> limiting_word = fresh_value(snap.chargers_limiting, now, site.electrical_stale_after);
  const bool limiting = limiting_word.value_or(0) > 0.5;
  // The chargers say, fresh, that they take all the PV they can: nothing is held back to use.
  const bool tracking = limiting_word && !limiting;
  const std::optional<double> amps = fresh_value(snap.battery_a, now, site.electrical_stale_after);
  bool probe_running = false;
  for (const LoadState& s : prev.miners) probe_running = probe_running || (s.on && s.probe_since);

  double committed_w = 0;  // draw of the higher-priority miners on this cycle
  // The sun's surplus left for miner k on generator power (generator.cpp): PV less the house and
  // the miners before it. A partial PV sum is a lower bound: it can only make the surplus smaller.
  const auto generator_surplus_w = [&]() -> std::optional<double> {
    if (!pv_sum || !house_w) return std::nullopt;
    return *pv_sum - *house_w - committed_w;
  };
  const Order order = priority_order(p.miners);
  for (std::size_t n = 0; n < order.n; ++n) {
    const std::size_t k = order.idx[n];
    const MinerProfile& m = p.miners[k];
    LoadState& st = out.next.miners[k];
    LoadDecision& d = out.miners[k];
    expire_override(now, st);

    // A miner whose firmware does not follow its target (the daemon saw it) runs on and off as
    // one without: its draw is its own, its start needs its own minimum excess.
    const bool target_ignored = k < snap.miner_target_ignored.size() && snap.miner_target_ignored[k];
    const PowerTarget* target = m.target && !target_ignored ? &*m.target : nullptr;
    if (!target) {
      st.target_w.reset();
      st.target_probed = false;
      st.target_probe_step_w = 0;
      st.target_least_surplus_w.reset();
      st.target_paying_since.reset();
    }
    const Effective e = effective_thresholds(m, site, target != nullptr);
    const bool heat_call = heat.call[k];
    // On generator power (or maybe on it) the generator charges the bank: a charging battery
    // proves no hidden surplus, so no probe starts and a held one ends (generator.cpp).
    const bool probes = m.probe_hidden_surplus && e.needs_surplus && !heat_call && ac.generator == GeneratorState::off;
    const bool was_on = st.on;
    if (!st.on || !probes) {
      st.probe_since.reset();
      st.on_hidden_surplus = false;
    }
    bool probe_start = false;
    const bool needs_pv = m.minimum_solar_w > 0 || e.needs_surplus;
    // PV with a part missing counts only where it proves enough: for the minimum, and for the
    // surplus (PV - house - committed >= minimum excess).
    double pv_needed_w = m.minimum_solar_w;
    if (e.needs_surplus && house_w) pv_needed_w = std::max(pv_needed_w, e.minimum_excess_w + *house_w + committed_w);
    const std::optional<double> pv = at_least(pv_sum, snap.pv_w_partial, pv_needed_w);
    const bool partial_short = needs_pv && pv_sum && !pv;
    const bool stale = !v || (!heat_call && ((needs_pv && !pv) || (e.needs_surplus && !load)));
    if (!stale) st.stale_since.reset();
    if (pv && m.minimum_solar_w > 0 && *pv >= m.minimum_solar_w) {
      if (!st.pv_ok_since) st.pv_ok_since = now;
    } else {
      st.pv_ok_since.reset();
    }

    const Heat heat_c = miner_heat(snap, k, site.electrical_stale_after);
    if (heat_c.at_limit()) {
      st.overheat_until = now + kOverheatCooldown;
    } else if (st.overheat_until && now >= *st.overheat_until && heat_c.cooled()) {
      st.overheat_until.reset();
    }

    // The battery paying beyond the probe's limit while it follows a target (on since the last
    // cycle): the target falls at once (power_target.cpp) and, past kTargetPayStop, it stops.
    if (target && st.on && amps && *amps < -site.probe_max_discharge_a) {
      if (!st.target_paying_since) st.target_paying_since = now;
    } else {
      st.target_paying_since.reset();
    }
    // Its relay still closed after a stop (asleep first, then cut): the minimum off-time, there
    // for the power supply, counts from the cut (issue 46: a soft-stopped miner's relay was off 260 s
    // before its next start, with min_off 300 s, counted from the decision).
    if (!st.on && st.last_change && k < snap.miner_powered.size() && snap.miner_powered[k]) st.last_change = now;

    LoadInputs in;
    const Thresholds& t = site.thresholds;
    bool below_emergency = false;  // the emergency branch was taken, whatever its reason says
    if (v && *v >= m.emergency_stop_v) st.emergency_stopped = false;
    if (!m.enabled) {
      in.force_off = Reason{ReasonCode::disabled};
    } else if (out.next.site.lockout) {
      const bool at_shutdown = v && *v <= t.shutdown_v;
      in.force_off = at_shutdown ? Reason{ReasonCode::shutdown, ReasonCode::none, *v, t.shutdown_v, {}}
                                 : Reason{ReasonCode::restart_lockout, ReasonCode::none, v.value_or(kNaN), t.restart_v, {}};
    } else if (v && *v < t.critical_low_v) {
      in.force_off = Reason{ReasonCode::critical_low, ReasonCode::none, *v, t.critical_low_v, {}};
    } else if (v && *v < m.emergency_stop_v) {
      // An emergency for a miner that runs or is asked to, and for one it stopped while the
      // battery stays below it; for one that was off, the ordinary wait for its start (its
      // safety_stop still says it is a safety matter, for a relay a soft stop still holds).
      st.emergency_stopped = st.emergency_stopped || st.on || st.override_.mode == OverrideMode::on;
      in.force_off = st.emergency_stopped ? Reason{ReasonCode::emergency_stop, ReasonCode::none, *v, m.emergency_stop_v, {}}
                                          : Reason{ReasonCode::below_start_voltage, ReasonCode::none, *v, e.start_v, {}};
      below_emergency = true;
    } else if (st.overheat_until) {
      // Before an override on: a miner past its own limit is not the owner's to run.
      const Duration left = *st.overheat_until > now ? *st.overheat_until - now : Duration{0};
      in.force_off = Reason{ReasonCode::overheat, ReasonCode::none, heat_c.temp_c.value_or(kNaN),
                            heat_c.limit_c.value_or(kNaN), left};
    } else if (snap.controller_overheat) {
      // The owner sheds the loads while the controller overheats (a room it shares with them).
      in.force_off = Reason{ReasonCode::controller_overheat, ReasonCode::none, snap.controller_overheat->temp_c,
                            snap.controller_overheat->limit_c, {}};
    } else if (const auto shed = ac.shed(LoadKind::miner, k)) {
      // Its source warns of an overload: before an override on, since a tripped inverter takes
      // every load and the controller with it.
      in.force_off = *shed;
    } else if (const auto gen = ac.generator == GeneratorState::off
                                    ? std::nullopt
                                    : generator_policy(ac, m.on_generator, st.on, generator_surplus_w(),
                                                       target ? target->min_w : m.power_w)) {
      // Before an override on: the owner's word for this load on generator fuel stands until the
      // policy is changed (an override is for the automatic decision, not for the fuel).
      in.force_off = *gen;
    } else if (st.override_.mode == OverrideMode::off) {
      in.force_off = Reason{ReasonCode::override_off};
    } else if (stale) {
      const bool no_voltage_ever = !any_reading(snap.battery_v);
      const bool never_seen = no_voltage_ever ||
                              (!heat_call && ((needs_pv && !snap.pv_w) || (e.needs_surplus && !snap.load_w)));
      apply_stale_policy(m.stale_policy, now, site.stale_hold_max, never_seen, m.timing, st, in);
      if (partial_short && !heat_call) {
        // Say why: the PV that is there does not reach what this miner needs.
        for (auto* r : {&in.force_off, &in.hold}) {
          if (*r) **r = Reason{(*r)->code, ReasonCode::partial_sum, *pv_sum, pv_needed_w, (*r)->remaining};
        }
      }
    } else if (st.override_.mode == OverrideMode::on) {
      in.force_on = Reason{ReasonCode::override_on};
    } else {
      const double volts = *v;
      const double surplus_w = (!heat_call && e.needs_surplus) ? *pv - *house_w - committed_w : 0;
      in.running_reason = heat_call ? Reason{ReasonCode::heating}
                                    : Reason{ReasonCode::running, ReasonCode::none, volts, e.stop_v, {}};
      // The start limit is a voltage whatever the miner starts for (a heat call too): its reason
      // must read in volts.
      in.start_reason = {ReasonCode::running, ReasonCode::none, volts, e.start_v, {}};

      // Schedule, solar and surplus are waived while the miner heats its zone; voltage is not.
      std::optional<Reason> schedule_block;
      if (!heat_call && !m.schedule.empty() && !m.allow_outside_schedule) {
        if (!snap.local_minute_of_day) {
          schedule_block = Reason{ReasonCode::clock_unknown};
        } else if (!in_windows(m.schedule, *snap.local_minute_of_day)) {
          schedule_block = Reason{ReasonCode::outside_schedule};
        }
      }
      const bool solar_short = !heat_call && m.minimum_solar_w > 0 && *pv < m.minimum_solar_w;
      const bool surplus_short = !heat_call && e.needs_surplus && surplus_w < e.minimum_excess_w;
      const bool sunny_short =
          !heat_call && m.require_sunny && (!st.pv_ok_since || now - *st.pv_ok_since < site.sunny_window);
      const Reason solar_reason{ReasonCode::insufficient_solar, ReasonCode::none, pv.value_or(kNaN), m.minimum_solar_w, {}};
      const Reason surplus_reason{ReasonCode::insufficient_surplus, ReasonCode::none, surplus_w, e.minimum_excess_w, {}};

      // Hidden surplus: a probe settles, then holds or fails; a held one runs while the battery
      // does not discharge. Either replaces the measured surplus, which the chargers hide.
      std::optional<Reason> probe_fail, hidden_stop, probe_wait;
      if (probes) {
        const double max_a = site.probe_max_discharge_a;
        const Reason failed{ReasonCode::probe_failed, ReasonCode::none, amps.value_or(kNaN), -max_a, {}};
        const bool discharging = !amps || *amps < -max_a;
        // A full bank sits at float: below it less the margin, the surplus is gone (and a slow
        // discharge under the current limit is not left to run for hours).
        const double floor_v = t.float_v - site.probe_margin_v;
        const Reason sagged{ReasonCode::probe_failed, ReasonCode::below_stop_voltage, volts, floor_v, {}};
        if (st.on && st.probe_since) {
          if (amps && *amps < 0 && st.probe_sampled_at) st.probe_ah += -*amps * to_seconds(now - *st.probe_sampled_at) / 3600.0;
          st.probe_sampled_at = now;
          if (discharging || st.probe_ah > site.probe_max_ah) {
            probe_fail = failed;
          } else if (volts < floor_v) {
            probe_fail = sagged;
          } else if (now - *st.probe_since >= site.probe_settle && tracking && target) {
            // A target follows the measured surplus once the chargers track: no more a probe.
            st.probe_since.reset();
            st.probe_backoff = Duration{0};
          } else if (now - *st.probe_since >= site.probe_settle && tracking) {
            // Settled with the chargers taking all they can: the load took everything held back
            // and the next cloud is the bank's. Not a surplus to hold on.
            probe_fail = Reason{ReasonCode::probe_failed, ReasonCode::chargers_tracking, amps.value_or(kNaN), kNaN, {}};
          } else if (now - *st.probe_since >= site.probe_settle) {
            st.probe_since.reset();
            st.on_hidden_surplus = true;
            st.probe_backoff = Duration{0};
          } else {
            in.running_reason = {ReasonCode::probing_hidden_surplus, ReasonCode::none, *amps, -max_a,
                                 site.probe_settle - (now - *st.probe_since)};
          }
        }
        // Running on the measured surplus when the bank fills and the chargers throttle: the same
        // surplus is now hidden; carry on as a held probe rather than stop and probe again.
        if (st.on && !st.probe_since && !st.on_hidden_surplus && limiting && !discharging &&
            (surplus_short || solar_short)) {
          st.on_hidden_surplus = true;
        }
        // A target lowers itself first: the run ends on a discharge only at its minimum; once the
        // chargers track it runs on the measured surplus.
        const bool target_above_min = target && st.target_w && *st.target_w > target->min_w;
        if (st.on && st.on_hidden_surplus && tracking && target) st.on_hidden_surplus = false;
        if (st.on && st.on_hidden_surplus) {
          in.running_reason = {ReasonCode::hidden_surplus, ReasonCode::none, amps.value_or(kNaN), -max_a, {}};
          if (discharging && !target_above_min) hidden_stop = failed;
          else if (volts < floor_v) hidden_stop = sagged;
          // The surplus it runs on was what the chargers held back: once they track all they can,
          // any less sun is paid by the bank. With the bank no longer charging that is now, not
          // after the stop delay (an independent overcast afternoon ran on until the bank had
          // given 0.6 Ah); while it still charges, the measured surplus carries the stop delay.
          else if (tracking && amps && *amps <= 0)
            probe_fail = Reason{ReasonCode::probe_failed, ReasonCode::chargers_tracking, *amps, 0, {}};
          else if (tracking) hidden_stop = Reason{ReasonCode::probe_failed, ReasonCode::chargers_tracking, amps.value_or(kNaN), kNaN, {}};
        }
        // The chargers hide PV: the minimum, the sunny window and the surplus are what a probe finds out.
        if (!st.on && (surplus_short || solar_short || sunny_short) && limiting && !probe_running && amps && *amps >= -max_a &&
            volts >= floor_v) {
          if (st.probe_next && now < *st.probe_next) {
            probe_wait = Reason{ReasonCode::probe_backoff, ReasonCode::none, kNaN, kNaN, *st.probe_next - now};
          } else {
            probe_start = true;
            in.running_reason = {ReasonCode::probing_hidden_surplus, ReasonCode::none, *amps, -max_a, site.probe_settle};
            in.start_reason = in.running_reason;
          }
        }
      }
      const bool on_probe = st.on && (st.probe_since || st.on_hidden_surplus);

      // Start: every condition holds. The first that fails is the reason it waits.
      if (volts < e.start_v) {
        in.not_startable = {ReasonCode::below_start_voltage, ReasonCode::none, volts, e.start_v, {}};
      } else if (schedule_block) {
        in.not_startable = *schedule_block;
      } else if (probe_start) {
        in.start_ok = true;
      } else if (probe_wait) {
        in.not_startable = *probe_wait;
      } else if (solar_short) {
        in.not_startable = solar_reason;
      } else if (sunny_short) {
        const Duration left = st.pv_ok_since ? site.sunny_window - (now - *st.pv_ok_since) : site.sunny_window;
        in.not_startable = {ReasonCode::not_sunny, ReasonCode::none, pv.value_or(kNaN), m.minimum_solar_w, left};
      } else if (surplus_short) {
        in.not_startable = surplus_reason;
      } else {
        in.start_ok = true;
      }

      // Stop: any condition, held for stop_delay. The surplus excludes the miner's own draw,
      // so running never cancels itself.
      in.stop_condition = true;
      if (volts < e.stop_v) {
        in.stop_reason = {ReasonCode::below_stop_voltage, ReasonCode::none, volts, e.stop_v, {}};
      } else if (schedule_block) {
        in.stop_reason = *schedule_block;
      } else if (solar_short && !on_probe) {
        in.stop_reason = solar_reason;
      } else if (surplus_short && !on_probe) {
        in.stop_reason = surplus_reason;
      } else if (hidden_stop) {
        in.stop_reason = *hidden_stop;
      } else if (m.max_run > Duration{0} && st.on && st.last_change && now - *st.last_change >= m.max_run) {
        in.stop_reason = {ReasonCode::max_runtime, ReasonCode::none, to_seconds(now - *st.last_change),
                          to_seconds(m.max_run), {}};
      } else {
        in.stop_condition = false;
      }
      // A probe that fails stops at once: the chargers have not ramped, the battery pays.
      if (probe_fail) in.force_off = *probe_fail;
      // A miner whose target came down at once and still could not shed as fast as the sun went:
      // asleep and its relay before the bank has paid beyond the probe's limit for a minute.
      if (!in.force_off && target && !heat_call && st.target_paying_since && now - *st.target_paying_since >= kTargetPayStop) {
        in.force_off = Reason{ReasonCode::target_too_slow, ReasonCode::none, amps.value_or(kNaN), -site.probe_max_discharge_a,
                              {}};
      }
    }

    step_load(StepContext{now, m.timing, out.next.site, true, site.stagger, &ac, m.feed, miner_start_draw_w(m),
                          miner_surge_draw_w(m)}, in, st,
              d);
    d.safety_stop = !d.on && (below_emergency || (in.force_off && is_safety_stop(in.force_off->code)));
    if (target) {
      TargetInputs ti;
      ti.now = now;
      ti.full = heat_call || st.override_.mode == OverrideMode::on;
      ti.full_reason = heat_call ? ReasonCode::heating : ReasonCode::override_on;
      ti.volts = v;
      ti.amps = amps;
      ti.limiting = limiting;
      if (pv && house_w) ti.surplus_w = *pv - *house_w - committed_w;
      if (k < snap.miner_w.size()) ti.draw_w = fresh_value(snap.miner_w[k], now, site.electrical_stale_after);
      ti.start_v = e.start_v;
      ti.floor_v = site.thresholds.float_v - site.probe_margin_v;
      ti.max_discharge_a = site.probe_max_discharge_a;
      ti.backoff_min = site.probe_backoff_min;
      ti.backoff_max = site.probe_backoff_max;
      step_target(*target, ti, st, d);
    }
    if (probes) {
      if (d.on && !was_on && probe_start) {
        st.probe_since = now;
        st.probe_sampled_at = now;
        st.probe_ah = 0;
      }
      if (!d.on && was_on && (d.reason.code == ReasonCode::probe_failed || d.reason.code == ReasonCode::target_too_slow)) {
        // The surplus was not there: wait, longer each time, before asking again.
        st.probe_backoff = st.probe_backoff.count() == 0 ? site.probe_backoff_min
                                                         : std::min(st.probe_backoff * 2, site.probe_backoff_max);
        st.probe_next = now + st.probe_backoff;
      }
      if (!d.on) {
        st.probe_since.reset();
        st.on_hidden_surplus = false;
      }
    }
    probe_running = probe_running || (d.on && st.probe_since);
    if (d.on) committed_w += d.target_w.value_or(m.power_w);
  }
}

}  // namespace rules::detail

namespace rules {

EffectiveThresholds effective_thresholds(const MinerProfile& m, const SiteProfile& site, bool with_target) {
  const double margin_v = site.mode_margin_v;
  EffectiveThresholds e{m.start_v, m.stop_v, m.require_excess_solar, m.minimum_excess_w};
  switch (m.mode) {
    case OperatingMode::balanced:
      break;
    case OperatingMode::aggressive:
      // Start earlier, but keep at least `margin` of hysteresis above the stop voltage, and never
      // below the site's restart threshold where the owner's own start is above it: a mode must
      // not run a miner on a bank the site says has not recovered.
      e.start_v = std::max(m.start_v - margin_v, std::min(m.start_v, m.stop_v + margin_v));
      e.start_v = std::max(e.start_v, std::min(m.start_v, site.thresholds.restart_v));
      break;
    case OperatingMode::conservative:
      // Keep more in the battery: both thresholds move up; the emergency stop does not move.
      e.start_v += margin_v;
      e.stop_v += margin_v;
      break;
    case OperatingMode::opportunistic:
      // Runs only on solar surplus, at least its own draw, whatever the profile says.
      e.needs_surplus = true;
      if (!(e.minimum_excess_w > 0)) e.minimum_excess_w = m.power_w;
      break;
  }
  // A miner that follows the surplus runs on as little as its lowest target.
  if (m.target && with_target) e.minimum_excess_w = m.target->min_w;
  return e;
}

}  // namespace rules
