#include "daemon/miners/target_watch.hpp"

#include <fmt/format.h>

#include <cmath>

namespace shackd {

std::optional<std::string> TargetWatch::trip(std::string why) {
  ignored_ = true;
  why_ = std::move(why);
  return why_;
}

std::optional<std::string> TargetWatch::step(const TargetWatchInput& in, rules::SteadyTime now) {
  if (ignored_) return std::nullopt;
  if (in.write) {
    if (in.write->ok) {
      refused_in_a_row_ = 0;
    } else if (in.write->unsupported) {
      return trip("it takes no power target (" + in.write->detail + ")");
    } else if (++refused_in_a_row_ >= 3) {
      // One refusal is a lost session or a busy miner; three in a row, 30 s apart, are its answer.
      return trip("it refused its power target three times in a row (" + in.write->detail + ")");
    }
  }
  if (!in.following || !in.taken_w || !in.taken_at) {
    off_since_.reset();
    return std::nullopt;
  }
  // Each read once, taken after the target and while it mines (not booting, not asleep).
  const bool judge = in.latest && in.latest_at > *in.taken_at && in.latest_at != judged_at_ && in.latest->power_w &&
                     in.latest->state == drivers::miners::MinerState::mining;
  if (judge) {
    judged_at_ = in.latest_at;
    if (std::abs(*in.latest->power_w - *in.taken_w) <= step_w_) {
      off_since_.reset();
    } else if (!off_since_) {
      // A new target while it is still away from the last one does not start the clock again:
      // a miner that ignores every target would otherwise never be found.
      off_since_ = in.latest_at;
    }
  }
  if (off_since_ && now - *off_since_ >= settle_ && in.latest && in.latest->power_w) {
    return trip(fmt::format("it draws {:.0f} W, not within {:.0f} W of its {:.0f} W target for {:.0f} s (it settles within {:.0f} s)",
                            *in.latest->power_w, step_w_, *in.taken_w, rules::to_seconds(now - *off_since_),
                            rules::to_seconds(settle_)));
  }
  return std::nullopt;
}

}  // namespace shackd
