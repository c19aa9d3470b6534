// A miner's power target: voltage first, then the battery's current, then the surplus.
// Raised while the chargers hold PV back, a step first and twice as much after each raise that
// held (a gentler probe than a whole dump load switched on: the bank answers each raise first),
// set to the measured surplus while they track, lowered by what the battery pays, and written no
// more often than the profile allows (a firmware that persists its target writes its flash).
// Never raised on a guess: a raise waits until the miner's measured draw has come within a step
// of the target it has, so that a bank that does not pay is an answer to the raise, not to a
// miner that ignored it. When the battery pays more than the probe's limit, the target falls at
// once to what the miner draws less what the bank pays (issue 46: a lowering that waited its
// interval let the bank pay 14.6 A for 162 s in a cloud).
#include <algorithm>
#include <cmath>

#include "rules/detail.hpp"

namespace rules::detail {

double target_on_grid(const PowerTarget& t, double w) {
  if (!(w > t.min_w)) return t.min_w;
  if (w >= t.max_w) return t.max_w;
  // Down onto min + k * step: a target is never above what was measured to be there.
  return t.min_w + std::floor((w - t.min_w) / t.step_w) * t.step_w;
}

void step_target(const PowerTarget& t, const TargetInputs& in, LoadState& st, LoadDecision& d) {
  if (!d.on) {
    // Off (or going off): the stop puts it to sleep; a start sets a new target.
    st.target_paying_since.reset();
    st.target_w.reset();
    st.target_probed = false;
    st.target_probe_step_w = 0;
    d.target_w.reset();
    return;
  }
  const bool fresh_start = !st.target_w;
  const double now_w = st.target_w.value_or(t.min_w);
  double want_w = now_w;
  std::optional<Duration> lower_within;  // set: a lowering waits at most this since the last write
  Reason why{ReasonCode::target_hold, ReasonCode::none, now_w, t.max_w, {}};

  if (in.full) {
    // Heating its zone, or the owner's override: all it can.
    want_w = t.max_w;
    why = {in.full_reason, ReasonCode::none, kNaN, kNaN, {}};
  } else if (!in.volts) {
    // Nothing to decide on: keep what it has (its stale policy decides whether it runs at all).
    if (fresh_start) why = {ReasonCode::target_start, ReasonCode::none, want_w, t.max_w, {}};
  } else if (fresh_start) {
    // A probe starts at the bottom; a start on the measured surplus at what was measured.
    want_w = in.surplus_w ? target_on_grid(t, *in.surplus_w) : t.min_w;
    why = {ReasonCode::target_start, ReasonCode::none, want_w, t.max_w, {}};
  } else if (*in.volts < in.start_v) {
    // Voltage first: below its start voltage the bank is not one to grow on; ease off a step at a
    // time (the stop voltage still cuts it at once).
    want_w = target_on_grid(t, now_w - t.step_w);
    why = {ReasonCode::target_voltage, ReasonCode::none, *in.volts, in.start_v, {}};
  } else if (in.amps && *in.amps < -in.max_discharge_a) {
    // The battery pays: take off what it pays (a step more, so the next reading is not the
    // same story), onto the grid below. From what the miner says it draws, where it says: one
    // still ramping down to its last target draws more than it, and that target already takes
    // the difference off (from the target alone, every reading would lower it again).
    const double pays_w = -*in.amps * *in.volts;
    const double base_w = in.draw_w.value_or(now_w);
    want_w = std::min(now_w, target_on_grid(t, base_w - pays_w - t.step_w));
    why = {ReasonCode::target_battery, ReasonCode::none, *in.amps, -in.max_discharge_a, {}};
    if (in.draw_w && want_w < now_w) {
      // At once the first time in this spell of paying; after that only once the miner has come
      // down to the target it has (a lower one does not make it shed faster, and each write may
      // go to its flash), and at most every 10 s.
      const bool first = !st.target_written_at || !st.target_paying_since || *st.target_written_at < *st.target_paying_since;
      const bool reached = *in.draw_w <= now_w + t.step_w;
      if (first) {
        lower_within = Duration{0};
      } else if (reached) {
        lower_within = std::min<Duration>(t.lower_interval, std::chrono::seconds(10));
      }
    }
  } else if (in.limiting && in.amps && *in.volts >= in.floor_v) {
    // The chargers hold PV back and the bank does not pay: there is more, but how much no meter
    // says, so the bank is asked a raise at a time. After a raise that had to be taken back, the
    // next waits out the probe backoff.
    if (st.probe_next && in.now < *st.probe_next) {
      why = {ReasonCode::probe_backoff, ReasonCode::none, kNaN, kNaN, *st.probe_next - in.now};
    } else {
      // Each raise that held doubles the next (a miner ramps for minutes: one step per interval
      // would take hours from the bottom to the top); one taken back starts again at one step.
      const double raise_w = st.target_probe_step_w > 0 ? st.target_probe_step_w : t.step_w;
      want_w = target_on_grid(t, now_w + raise_w);
      why = {ReasonCode::target_probe, ReasonCode::none, want_w, t.max_w, {}};
    }
  } else if (!in.limiting && in.surplus_w) {
    // The chargers take all the PV they can: the measured surplus is the truth, both ways, but
    // not its noise (a kettle, a cloud's edge), which must not write the flash: up to the least
    // surplus seen since the last write, when that is a whole step more; down when the surplus is
    // half a step short, or short at all while the battery says it pays (meters read at different
    // instants disagree by a little while a miner ramps: that alone must not write).
    const double least_w = std::min(st.target_least_surplus_w.value_or(*in.surplus_w), *in.surplus_w);
    st.target_least_surplus_w = least_w;
    const double up_w = target_on_grid(t, least_w);
    if (up_w >= now_w + t.step_w) {
      want_w = up_w;
    } else if (*in.surplus_w < now_w - t.step_w / 2 || (*in.surplus_w < now_w && in.amps && *in.amps < 0)) {
      want_w = std::min(now_w, target_on_grid(t, *in.surplus_w));
    }
    why = {ReasonCode::target_surplus, ReasonCode::none, want_w, *in.surplus_w, {}};
  }

  if (fresh_start) {
    st.target_least_surplus_w.reset();
    st.target_w = want_w;
    st.target_written_at = in.now;
    d.target_changed = true;
  } else if (want_w != now_w) {
    // A probe's raise the battery pays for is taken back at once: the overshoot costs seconds of
    // discharge, and the next raise waits out the backoff, so writes stay bounded.
    const bool overshoot = want_w < now_w && st.target_probed && why.code == ReasonCode::target_battery;
    Duration interval = want_w > now_w ? t.raise_interval : (overshoot ? Duration{0} : t.lower_interval);
    if (want_w < now_w && lower_within) interval = std::min(interval, *lower_within);
    const Duration since = st.target_written_at ? in.now - *st.target_written_at : interval;
    // A raise on a miner that has not reached the target it has (or does not say what it
    // draws) would be a guess: the bank's answer says nothing about a raise the miner ignored.
    const bool guess = want_w > now_w && !in.full && (!in.draw_w || std::abs(*in.draw_w - now_w) > t.step_w);
    if (since >= interval && guess) {
      why = {ReasonCode::target_follow, ReasonCode::none, in.draw_w.value_or(kNaN), now_w, {}};
    } else if (since >= interval) {
      if (want_w < now_w && st.target_probed) {
        // A probe's raise taken back: the ceiling is found; ask again later, later each time.
        st.probe_backoff = st.probe_backoff.count() == 0 ? in.backoff_min : std::min(st.probe_backoff * 2, in.backoff_max);
        st.probe_next = in.now + st.probe_backoff;
      } else if (want_w > now_w && st.target_probed && why.code == ReasonCode::target_probe) {
        st.probe_backoff = Duration{0};  // the last raise held
      }
      if (why.code == ReasonCode::target_probe) {
        const double held_w = st.target_probe_step_w > 0 ? st.target_probe_step_w : t.step_w;
        st.target_probe_step_w = std::min(held_w * 2, t.max_w - t.min_w);
      } else {
        st.target_probe_step_w = 0;
      }
      st.target_probed = why.code == ReasonCode::target_probe;
      st.target_least_surplus_w.reset();
      st.target_w = want_w;
      st.target_written_at = in.now;
      d.target_changed = true;
    } else {
      why = {ReasonCode::target_wait, why.code, why.value, why.limit, interval - since};
    }
  }
  d.target_w = st.target_w;
  d.target_reason = why;
}

}  // namespace rules::detail
