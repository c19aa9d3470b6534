#include "daemon/store/journal_lines.hpp"

#include <chrono>
#include <optional>

namespace shackd {

void JournalLines::overrides(const std::vector<LoadRef>& loads, const rules::State& state, rules::SteadyTime now, bool on) {
  overrides_.clear();
  if (!on) return;
  for (const auto& l : loads) {
    const auto& ov = state_of(state, l).override_;
    if (ov.mode == rules::OverrideMode::automatic) continue;
    std::optional<std::int64_t> left;
    if (ov.until) left = std::chrono::duration_cast<std::chrono::milliseconds>(*ov.until - now).count();
    overrides_.push_back({l.state_key, ov.mode, left});
  }
}

void JournalLines::cycle(const rules::Snapshot& snap, std::int64_t wall_ms, bool on) {
  if (!on) return;  // the owner turned it off: replay uses minute averages
  lines_ = std::exchange(started_, false) ? "S\n" : "";
  lines_ += journal_cycle_line(snap, wall_ms, overrides_, miners_, ac_);
}

}  // namespace shackd
