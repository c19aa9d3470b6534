// The stop's deadline (drivers/thread/deadline.hpp) on a clock set by hand, and a bounded join that
// leaves a body behind (drivers/thread/worker.hpp: join_within).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "drivers/thread/deadline.hpp"
#include "drivers/thread/worker.hpp"

using namespace std::chrono_literals;
using drivers::thread::Deadline;
using drivers::thread::Stopped;

namespace {
// A clock the test moves: shared, so that a copied deadline reads the same time.
struct HandClock {
  std::shared_ptr<Deadline::TimePoint> t = std::make_shared<Deadline::TimePoint>(Deadline::TimePoint(1000s));
  Deadline::Now now() const {
    return [t = t] { return *t; };
  }
  void advance(std::chrono::milliseconds d) const { *t += d; }
};
}  // namespace

TEST_CASE("deadline: what is left counts down to zero and never below; passed at the deadline itself") {
  HandClock clock;
  const Deadline d = Deadline::after(18s, clock.now());
  CHECK(d.left() == 18000ms);
  CHECK_FALSE(d.passed());
  clock.advance(17999ms);
  CHECK(d.left() == 1ms);
  CHECK_FALSE(d.passed());
  clock.advance(1ms);
  CHECK(d.left() == 0ms);
  CHECK(d.passed());
  clock.advance(5s);
  CHECK(d.left() == 0ms);
  CHECK(d.passed());
}

TEST_CASE("deadline: capped is no later than now + max and no later than itself") {
  HandClock clock;
  const Deadline stop = Deadline::after(18s, clock.now());
  // Early in the stop a component's own bound is the nearer.
  const Deadline recorder = stop.capped(8s);
  CHECK(recorder.left() == 8000ms);
  CHECK(recorder.at() < stop.at());
  // 17 s into the stop only 1 s is left: the stop's deadline is the nearer.
  clock.advance(17s);
  const Deadline late = stop.capped(8s);
  CHECK(late.left() == 1000ms);
  CHECK(late.at() == stop.at());
  // Past it, nothing is left for anyone.
  clock.advance(2s);
  CHECK(stop.capped(2s).left() == 0ms);
  CHECK(stop.capped(2s).passed());
  // A capped deadline reads the clock it was made on.
  const Deadline again = Deadline::after(1s, clock.now()).capped(10s);
  clock.advance(400ms);
  CHECK(again.left() == 600ms);
}

TEST_CASE("stopped: end measures the time since the stop began on the deadline's clock") {
  HandClock clock;
  const Deadline d = Deadline::after(2s, clock.now());
  const auto began = d.now();
  clock.advance(1250ms);
  const Stopped s = Stopped::end("publisher", d, began, false, "a publish under way");
  CHECK(s.component == "publisher");
  CHECK_FALSE(s.in_time);
  CHECK(s.left_behind == "a publish under way");
  CHECK(s.took == 1250ms);
  CHECK(Stopped::end("link", d, d.now(), true).left_behind.empty());
}

TEST_CASE("worker: join_within waits for a body that ends by itself, and leaves a held one behind") {
  {
    drivers::thread::Worker quick("join-test", [](std::stop_token) {});
    CHECK(quick.join_within(5s));
    CHECK(quick.finished());
  }
  // A body held on a gate it owns a share of: never asked to stop (join_within does not), left
  // behind at the bound, and still running after it.
  auto gate = std::make_shared<std::atomic<bool>>(false);
  auto ended = std::make_shared<std::atomic<bool>>(false);
  auto asked = std::make_shared<std::atomic<bool>>(true);
  {
    drivers::thread::Worker held("join-held", [gate, ended, asked](std::stop_token token) {
      while (!gate->load()) std::this_thread::sleep_for(1ms);
      asked->store(token.stop_requested());
      ended->store(true);
    });
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(held.join_within(50ms));
    const auto waited = std::chrono::steady_clock::now() - t0;
    CHECK(waited >= 50ms);
    CHECK(waited < 5s);
    CHECK_FALSE(held.started());  // detached: its destructor waits for nothing
  }
  gate->store(true);
  // The body ends on its own, with what it owns.
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (!ended->load() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(1ms);
  CHECK(ended->load());
  CHECK_FALSE(asked->load());  // join_within never asked it to stop
  std::this_thread::sleep_for(20ms);  // its last store done, the thread gone before the test's end
}
