#pragma once
// Signal handlers only set flags; the loop acts on them at the top of its next cycle.
#include <atomic>

namespace shackd::signals {

void install();
extern std::atomic<bool> reload;  // SIGHUP
extern std::atomic<bool> stop;    // SIGTERM, SIGINT
// SIGPIPE, SIGUSR1 and SIGUSR2 are ignored.

}  // namespace shackd::signals
