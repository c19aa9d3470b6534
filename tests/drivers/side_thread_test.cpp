// Every thread but the loop's leaves SIGTERM, SIGINT and SIGHUP to the loop's thread
// (drivers/thread/worker.hpp: begin_side_thread), so that a stop or a reload ends the loop's
// sleep at once and never lands in another thread's select.
#include <doctest/doctest.h>

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <thread>

#include "drivers/thread/worker.hpp"

namespace {
bool blocked_here(int sig) {
  sigset_t now;
  pthread_sigmask(SIG_BLOCK, nullptr, &now);
  return sigismember(&now, sig) == 1;
}
}  // namespace

TEST_CASE("a side thread blocks the daemon's signals; the thread that started it does not") {
  REQUIRE_FALSE(blocked_here(SIGTERM));
  std::atomic<int> seen{-1};
  {
    drivers::thread::Worker w("sig-test", [&](std::stop_token) {
      seen = (blocked_here(SIGTERM) ? 1 : 0) + (blocked_here(SIGINT) ? 2 : 0) + (blocked_here(SIGHUP) ? 4 : 0);
    });
    w.join();
  }
  CHECK(seen == 7);
  // The caller keeps them: the mask is the side thread's own.
  CHECK_FALSE(blocked_here(SIGTERM));
  CHECK_FALSE(blocked_here(SIGHUP));
  // A thread of its own (the MQTT link's, the recorder's, the metrics') does the same first.
  std::thread t([&] {
    drivers::thread::begin_side_thread("sig-test-2");
    seen = blocked_here(SIGTERM) && blocked_here(SIGINT) && blocked_here(SIGHUP) ? 1 : 0;
  });
  t.join();
  CHECK(seen == 1);
}
