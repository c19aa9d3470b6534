// The sliding one-hour window behind max_starts_per_hour.
#include <algorithm>

#include "rules/state.hpp"

namespace rules {

namespace {
constexpr Duration kHour = std::chrono::hours(1);
}

int StartLog::in_last_hour(SteadyTime now) const {
  int n = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (now - at[i] < kHour) ++n;
  }
  return n;
}

void StartLog::record(SteadyTime now) {
  // Drop what fell out of the window, then append; when full, the oldest goes.
  std::size_t keep = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (now - at[i] < kHour) at[keep++] = at[i];
  }
  count = keep;
  if (count == at.size()) {
    std::move(at.begin() + 1, at.end(), at.begin());
    --count;
  }
  at[count++] = now;
}

}  // namespace rules
