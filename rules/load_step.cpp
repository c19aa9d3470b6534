// The switching discipline every load shares: dwell timers for start and stop, minimum on and
// off times, max starts per hour and the site's stagger. Emergencies bypass all of it.
#include "rules/detail.hpp"

namespace rules::detail {

namespace {

Duration remaining(SteadyTime now, SteadyTime since, Duration need) { return need - (now - since); }

Reason pending(ReasonCode code, const Reason& cause, Duration left) {
  return {code, cause.code, cause.value, cause.limit, left};
}

// The load is off and something wants it on: min off-time, max starts per hour, stagger.
bool try_start(const StepContext& ctx, LoadState& st, const Reason& why, Reason& out) {
  const SteadyTime now = ctx.now;
  if (st.last_change && now - *st.last_change < ctx.timing.min_off) {
    out = pending(ReasonCode::min_off_pending, why, remaining(now, *st.last_change, ctx.timing.min_off));
    return false;
  }
  const int limit = ctx.timing.max_starts_per_hour;
  if (limit > 0) {
    const int used = st.starts.in_last_hour(now);
    if (used >= limit) {
      // The oldest start in the window is the next to leave it.
      Duration left{0};
      for (std::size_t i = 0; i < st.starts.count; ++i) {
        if (now - st.starts.at[i] < std::chrono::hours(1)) {
          left = remaining(now, st.starts.at[i], std::chrono::hours(1));
          break;
        }
      }
      out = {ReasonCode::max_starts_reached, why.code, static_cast<double>(used), static_cast<double>(limit), left};
      return false;
    }
  }
  if (ctx.staggered && ctx.site.last_start && now - *ctx.site.last_start < ctx.stagger) {
    out = pending(ReasonCode::stagger_wait, why, remaining(now, *ctx.site.last_start, ctx.stagger));
    return false;
  }
  // Last: the AC source that feeds it must have room for it (ac_budget.cpp).
  if (ctx.ac) {
    if (auto held = ctx.ac->hold(ctx.feed, ctx.draw_w, ctx.start_w)) {
      out = *held;
      return false;
    }
    ctx.ac->commit(ctx.feed, ctx.draw_w, ctx.start_w);
  }
  st.starts.record(now);
  if (ctx.staggered) ctx.site.last_start = now;
  out = why;
  return true;
}

}  // namespace

bool start_due(SteadyTime now, const Timing& timing, const SiteState& site, Duration stagger, const LoadState& st) {
  if (timing.start_delay > Duration{0} && (!st.start_cond_since || now - *st.start_cond_since < timing.start_delay)) {
    return false;
  }
  if (st.last_change && now - *st.last_change < timing.min_off) return false;
  if (timing.max_starts_per_hour > 0 && st.starts.in_last_hour(now) >= timing.max_starts_per_hour) return false;
  return !(site.last_start && now - *site.last_start < stagger);
}

void expire_override(SteadyTime now, LoadState& st) {
  if (st.override_.mode != OverrideMode::automatic && st.override_.until && now >= *st.override_.until) {
    st.override_ = {};
  }
}

void apply_stale_policy(StalePolicy policy, SteadyTime now, Duration hold_max, bool never_seen, const Timing& timing,
                        LoadState& st, LoadInputs& in) {
  if (!st.stale_since) st.stale_since = now;
  if (never_seen) {
    // Boot-safe: nothing starts on an input shackd has not seen yet, and a load restored as on
    // is not flapped off before its minimum on-time.
    if (st.on && st.last_change && now - *st.last_change < timing.min_on) {
      in.hold = Reason{ReasonCode::stale_input, ReasonCode::none, {}, {}, timing.min_on - (now - *st.last_change)};
    } else {
      in.force_off = Reason{ReasonCode::stale_input};
    }
    return;
  }
  switch (policy) {
    case StalePolicy::off:
      in.force_off = Reason{ReasonCode::stale_input};
      return;
    case StalePolicy::on:
      in.force_on = Reason{ReasonCode::stale_on};
      return;
    case StalePolicy::hold:
      if (now - *st.stale_since < hold_max) {
        in.hold = Reason{ReasonCode::stale_hold, ReasonCode::none, {}, {}, hold_max - (now - *st.stale_since)};
      } else {
        in.force_off = Reason{ReasonCode::stale_input};  // held long enough: fail safe
      }
      return;
  }
}

void step_load(const StepContext& ctx, const LoadInputs& in, LoadState& st, LoadDecision& out) {
  const SteadyTime now = ctx.now;
  const bool was_on = st.on;
  bool on = was_on;
  Reason reason;

  if (in.force_off) {
    on = false;
    reason = *in.force_off;
    st.start_cond_since.reset();
    st.stop_cond_since.reset();
  } else if (in.hold) {
    reason = *in.hold;
    st.start_cond_since.reset();
    st.stop_cond_since.reset();
  } else if (in.force_on) {
    st.start_cond_since.reset();
    st.stop_cond_since.reset();
    on = was_on || try_start(ctx, st, *in.force_on, reason);
    if (was_on) reason = *in.force_on;
  } else if (was_on) {
    st.start_cond_since.reset();
    if (!in.stop_condition) {
      st.stop_cond_since.reset();
      reason = in.running_reason;
    } else {
      if (!st.stop_cond_since) st.stop_cond_since = now;
      const Duration held = now - *st.stop_cond_since;
      if (held < ctx.timing.stop_delay) {
        reason = pending(ReasonCode::stop_delay_pending, in.stop_reason, ctx.timing.stop_delay - held);
      } else if (st.last_change && now - *st.last_change < ctx.timing.min_on) {
        reason = pending(ReasonCode::min_on_pending, in.stop_reason, remaining(now, *st.last_change, ctx.timing.min_on));
      } else {
        on = false;
        reason = in.stop_reason;
        st.stop_cond_since.reset();
      }
    }
  } else {
    st.stop_cond_since.reset();
    if (!in.start_ok) {
      st.start_cond_since.reset();
      reason = in.not_startable;
    } else {
      if (!st.start_cond_since) st.start_cond_since = now;
      const Duration held = now - *st.start_cond_since;
      if (held < ctx.timing.start_delay) {
        const Reason& why = in.start_reason.code == ReasonCode::none ? in.running_reason : in.start_reason;
        reason = pending(ReasonCode::start_delay_pending, why, ctx.timing.start_delay - held);
      } else if (try_start(ctx, st, in.running_reason, reason)) {
        on = true;
        st.start_cond_since.reset();
      }
    }
  }

  if (on != was_on) {
    st.on = on;
    st.last_change = now;
  }
  out.on = on;
  out.changed = on != was_on;
  out.reason = reason;
}

}  // namespace rules::detail
