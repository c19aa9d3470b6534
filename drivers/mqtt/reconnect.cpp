#include "drivers/mqtt/reconnect.hpp"

#include <algorithm>

namespace drivers::mqtt {

Backoff::Backoff(ReconnectPolicy policy, std::uint64_t seed) : policy_(policy), state_(seed | 1) {}

// Uniform over [upper/2, upper]: never at once (a broker that just dropped us is given a moment),
// never later than `upper`. xorshift64*: jitter, not cryptography.
std::chrono::milliseconds Backoff::jittered(std::chrono::milliseconds upper) {
  state_ ^= state_ >> 12;
  state_ ^= state_ << 25;
  state_ ^= state_ >> 27;
  const std::uint64_t r = state_ * 0x2545F4914F6CDD1DULL;
  const auto half = std::max<std::int64_t>(1, upper.count() / 2);
  return std::chrono::milliseconds(upper.count() - half + static_cast<std::int64_t>(r % static_cast<std::uint64_t>(half + 1)));
}

std::chrono::milliseconds Backoff::after_loss() {
  failures_ = 0;
  return jittered(policy_.first);
}

std::chrono::milliseconds Backoff::after_failure(bool refused) {
  const auto cap = refused ? std::max(policy_.refused_cap, policy_.cap) : policy_.cap;
  // first, 2 first, 4 first ... up to the cap (the shift is bounded: no overflow).
  const auto upper = std::min<std::int64_t>(cap.count(), policy_.first.count() << std::min(failures_, 20));
  ++failures_;
  return jittered(std::chrono::milliseconds(std::max<std::int64_t>(1, upper)));
}

}  // namespace drivers::mqtt
