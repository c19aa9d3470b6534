#pragma once
// Waiting for a side job's thread, with a bound, on the real monotonic clock and by short sleeps:
// never a timed condition-variable wait. Under libfaketime (the demo and the soak) a deadline
// taken from the faked clock is measured by glibc's pthread_cond_clockwait against the real one,
// and it never fires (drivers/mqtt/client.cpp waits the same way). The recorder and the publisher
// share it; each once had its own copy, which two files in one unity batch could not both define.
#include <chrono>
#include <thread>

namespace shackd {

using RealClock = std::chrono::steady_clock;

// True when `done()` became true within `bound`.
template <typename Done>
bool wait_until(Done done, std::chrono::milliseconds bound) {
  const auto until = RealClock::now() + bound;
  while (!done()) {
    if (RealClock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace shackd
