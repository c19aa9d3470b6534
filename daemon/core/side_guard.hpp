#pragma once
// A side job's guard (issue 27, S1; issue 44): whatever one side job of the cycle throws is
// counted in the loop's figures and logged (at most a line a minute for each job), and never
// passed on: it never skips the decision, the relays or the ping, nor the side jobs after it.
#include <exception>

#include "daemon/core/loop_stats.hpp"

namespace shackd {

// Counts and logs a side job's failure; never throws.
void side_failed(LoopStats& stats, SideJob job, const char* what) noexcept;

template <typename F>
void guarded(LoopStats& stats, SideJob job, F&& f) noexcept {
  try {
    f();
  } catch (const std::exception& e) {
    side_failed(stats, job, e.what());
  } catch (...) {
    side_failed(stats, job, "an unknown exception");
  }
}

}  // namespace shackd
