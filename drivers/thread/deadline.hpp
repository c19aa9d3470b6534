#pragma once
// The stop's one face (issue 57, item 2: "stop(deadline)"): the daemon makes one deadline for the
// whole stop (daemon/loop/daemon.cpp: shutdown) and hands it to each component in turn; each takes
// what is left, capped by its own bound (the recorder's last write 8 s, the publisher's and the
// link's 2 s), and answers what it did: in time, or what it left behind. Before, each stop had a
// bound of its own, and nothing added them up against systemd's TimeoutStopSec.
//
// On the monotonic clock the bounded waits measure with (daemon/system/real_wait.hpp); the clock is
// injectable so that a test sets the time by hand (tests/drivers/deadline_test.cpp).
#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <utility>

namespace drivers::thread {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;
  using Now = std::function<TimePoint()>;

  // At `at`, on `now` (the real monotonic clock unless a test gives its own).
  explicit Deadline(TimePoint at, Now now = {}) : at_(at), now_(std::move(now)) {}
  // `d` from now.
  static Deadline after(std::chrono::milliseconds d, Now now = {}) {
    const TimePoint t = now ? now() : Clock::now();
    return Deadline(t + d, std::move(now));
  }

  TimePoint at() const { return at_; }
  TimePoint now() const { return now_ ? now_() : Clock::now(); }
  // What is left, never below zero.
  std::chrono::milliseconds left() const {
    return std::max(std::chrono::milliseconds(0), std::chrono::ceil<std::chrono::milliseconds>(at_ - now()));
  }
  bool passed() const { return now() >= at_; }
  // A deadline no later than now + `max` and no later than this one: a component's own bound
  // within the stop's.
  Deadline capped(std::chrono::milliseconds max) const { return Deadline(std::min(at_, now() + max), now_); }

 private:
  TimePoint at_;
  Now now_;
};

// What a component's stop answers.
struct Stopped {
  std::string component;            // "recorder", "publisher", ...
  bool in_time = true;              // false: it gave up at its deadline and left something behind
  std::string left_behind;          // what, said for the log ("the last write did not finish ...")
  std::chrono::milliseconds took{0};

  // The answer of `component`'s stop that began at `started`, measured on `d`'s clock.
  static Stopped end(std::string component, const Deadline& d, Deadline::TimePoint started, bool in_time,
                     std::string left_behind = {}) {
    return Stopped{std::move(component), in_time, std::move(left_behind),
                   std::chrono::duration_cast<std::chrono::milliseconds>(d.now() - started)};
  }
};

}  // namespace drivers::thread
