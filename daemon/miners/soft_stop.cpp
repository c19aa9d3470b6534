#include "daemon/miners/soft_stop.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace shackd {

using drivers::miners::MinerState;

SoftStopStep SoftStop::step(const SoftStopInput& in, rules::SteadyTime now) {
  SoftStopStep out;
  if (in.want_on) {
    if (phase_ == Phase::stopping) {
      out.send = MinerCommand::wake;  // asked back before the cut: wake it where it is
      out.note = "started again before the relay was cut: woken";
      last_wake_ = now;
    }
    if (phase_ != Phase::on) since_ = now;
    phase_ = Phase::on;
    out.relay_on = true;
    // Asleep on a read taken since it was powered: wake it (once a minute at most).
    const bool asleep = in.latest && in.latest_at >= since_ && in.latest->state == MinerState::sleeping;
    if (!out.send && asleep && (!last_wake_ || now - *last_wake_ >= std::chrono::seconds(60))) {
      out.send = MinerCommand::wake;
      out.note = "powered and asleep: woken";
      last_wake_ = now;
    }
    return out;
  }
  switch (phase_) {
    case Phase::off:
      return out;
    case Phase::on:
      if (!in.answering) {
        phase_ = Phase::off;
        out.note = "its API does not answer: relay cut";
        return out;
      }
      phase_ = Phase::stopping;
      since_ = now;
      sleep_accepted_at_.reset();
      // What this stop is, kept for its whole length: the rules say it on its first cycle only
      // (a miner decided off reads below_start_voltage from the next cycle on, not
      // emergency_stop; target_too_slow gives way to why it waits), and a bound that held for one
      // cycle never cut anything (issue 48: a relay held 62 s below the emergency voltage).
      urgent_ = in.urgent;
      cut_within_ = in.cut_within;
      out.send = MinerCommand::sleep;
      out.relay_on = true;
      out.note = in.urgent ? "safety stop: sleep sent, the relay is cut next cycle" : "sleep sent; the relay waits for its draw to fall";
      return out;
    case Phase::stopping:
      break;
  }
  if (in.sleep_done) {
    if (!in.sleep_done->ok) {
      phase_ = Phase::off;
      out.note = "sleep refused (" + in.sleep_done->detail + "): relay cut";
      return out;
    }
    sleep_accepted_at_ = now;
  }
  // A read the loop took after the sleep was accepted, below idle: asleep, cut.
  const bool read_after = in.latest && sleep_accepted_at_ && in.latest_at >= *sleep_accepted_at_;
  if (read_after && in.latest->power_w && *in.latest->power_w < idle_w_) {
    phase_ = Phase::off;
    out.note = fmt::format("asleep at {:.0f} W (idle below {:.0f} W): relay cut", *in.latest->power_w, idle_w_);
    return out;
  }
  if ((in.urgent || urgent_) && now > since_) {
    phase_ = Phase::off;
    out.note = "safety stop: relay cut one cycle after the sleep";
    return out;
  }
  rules::Duration timeout = stop_timeout_;
  for (const auto& bound : {cut_within_, in.cut_within}) {
    if (bound) timeout = std::min(timeout, *bound);
  }
  if (now - since_ >= timeout) {
    phase_ = Phase::off;
    out.note = fmt::format("still drawing {} after {:.0f} s: relay cut",
                           in.latest && in.latest->power_w ? fmt::format("{:.0f} W", *in.latest->power_w) : "an unknown power",
                           rules::to_seconds(now - since_));
    return out;
  }
  out.relay_on = true;
  return out;
}

}  // namespace shackd
