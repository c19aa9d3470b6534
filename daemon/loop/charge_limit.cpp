#include "daemon/loop/charge_limit.hpp"

#include <fmt/format.h>

#include <utility>

namespace shackd {

namespace {

// A charge-current limit's value for people: a negative one is "no limit" (the GX's DVCC -1,
// docs/registers.md §1.8), not a current.
std::string shown(std::int16_t a) { return a < 0 ? std::string("no limit") : fmt::format("{} A", a); }

}  // namespace

std::vector<ChargeLimitNote> ChargeLimit::step(bool blocked) {
  std::vector<ChargeLimitNote> notes;
  for (const auto& done : worker_->take_swaps()) {
    if (done.swap.unit != spec_.unit || done.swap.address != spec_.address) continue;
    in_flight_ = false;
    if (!done.result.error.empty()) {
      // Retried every cycle: one event for the run of failures, not one per cycle.
      if (failures_++ == 0) notes.push_back({true, fmt::format("{}_write_failed: {}", spec_.name, done.result.error)});
      continue;
    }
    const int tries = failures_ + 1;
    failures_ = 0;
    const std::string after = tries > 1 ? fmt::format(" after {} tries", tries) : "";
    if (done.swap.value == 0) {
      const std::int16_t previous = *done.result.previous;
      // A 0 found there is shackd's own (from before a crash): keep what to put back.
      if (previous != 0) saved_ = previous;
      applied_ = true;
      save();
      notes.push_back({false, fmt::format("{} set to 0 A (was {}){}", spec_.name, shown(previous), after)});
    } else {
      applied_ = false;
      persisted_applied_ = false;
      save();
      notes.push_back({false, fmt::format("{} restored to {}{}", spec_.name, shown(done.swap.value), after)});
    }
  }
  // Blocked: write 0 until this run has it confirmed. Not blocked: put back whatever may be at
  // 0 A: a confirmed 0, a write whose read-back failed (it may have landed), or one the database
  // says was out when shackd stopped.
  const bool write = blocked ? !applied_ : persisted_applied_;
  if (in_flight_ || !write) return notes;
  if (blocked && !persisted_applied_) {
    // Until the device answers, the value to put back is the fallback.
    saved_ = spec_.restore_if_zero;
    persisted_applied_ = true;
    save();  // on disk before the write can reach the device
  }
  worker_->swap({spec_.unit, spec_.address, blocked ? std::int16_t{0} : saved_});
  in_flight_ = true;
  return notes;
}

void ChargeLimit::resume(const ChargeLimitRow& row) {
  // Not applied_ until this run has it confirmed: still blocked, it is written 0 again (it may
  // never have reached the device); not blocked, it is put back.
  persisted_applied_ = row.applied;
  saved_ = row.saved;
}

}  // namespace shackd
