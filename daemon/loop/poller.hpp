#pragma once
// One thread per device, so a slow or dead device never holds up another. Each polls on a tick of
// its own (issue 57's CPU): the loop tells it when its next cycle starts (plan), and it polls a
// little before, by its recent polls' length, so that the loop finds the readings there and wakes
// nobody. In a steady loop the worker plans its next poll itself (the last cycle + the interval)
// and plan() only checks it, with no wake-up. Whatever the plan, the loop's request at the top of
// a cycle is the fallback: a poll not done by then (none planned, a slow device, a late loop, a
// result older than half an interval) is asked for then and waited for, at most until a
// deadline, as it was before the tick. A poll is bounded by its device's timeout, so the deadline
// is only a backstop.
#include <chrono>
#include <stop_token>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "daemon/loop/seams.hpp"
#include "drivers/modbus_device.hpp"
#include "drivers/thread/worker.hpp"

namespace shackd {

class PollWorker final : public PolledDevice {
 public:
  explicit PollWorker(drivers::DeviceConfig config);
  ~PollWorker() override;
  // A poll now, unless one is under way or done recently enough (a planned one) to be taken.
  void request() override;
  void plan(rules::SteadyTime next_cycle, std::chrono::milliseconds interval) override;
  // The result of the last poll, if it is done by `deadline`.
  std::optional<drivers::PollResult> wait(rules::SteadyTime deadline) override;
  drivers::DeviceHealth health() override;
  // A register swap (read, then write) done on the worker's thread before its next poll.
  using Swap = RegisterSwap;
  using SwapDone = RegisterSwapDone;
  void swap(Swap s) override;
  std::vector<SwapDone> take_swaps() override;
  const std::string& name() const override { return name_; }
  // Its units and tables: fixed at construction, so safe to read from the loop's thread.
  const std::vector<drivers::UnitConfig>& units() const override { return units_; }

 private:
  void run(const std::stop_token& stop);
  // Under m_: when the planned poll is due (the next cycle less the lead), if one is planned.
  std::optional<rules::SteadyTime> planned_poll() const;
  void wake();
  std::string name_;
  std::vector<drivers::UnitConfig> units_;
  drivers::ModbusDevice device_;
  // Guards what follows up to the fds. No condition variable: the worker sleeps in poll(2) on
  // wake_fd_ with a relative time-out, which libfaketime scales (a clocked condition-variable
  // wait, pthread_cond_clockwait, it does not intercept: under a faked clock it would not wake in
  // time, or at once each time).
  std::mutex m_;
  bool requested_ = false;  // the loop asked for a poll now
  bool busy_ = false;       // a poll is under way
  bool done_ = false;       // result_ holds a poll the loop has not taken
  bool waiting_ = false;    // the loop sleeps on done_fd_ until done_
  bool replanned_ = false;  // plan() moved the plan while a poll was under way
  std::optional<rules::SteadyTime> next_cycle_;  // the loop's next cycle as planned; none: poll on request only
  std::chrono::nanoseconds interval_{0};
  std::chrono::nanoseconds recent_poll_{0};  // the polls' length, a maximum that decays by 1/8 a poll
  rules::SteadyTime finished_at_{};
  drivers::PollResult result_;
  std::vector<Swap> swaps_;
  std::vector<SwapDone> swaps_done_;
  drivers::DeviceHealth health_;
  int done_fd_;  // an eventfd: written when a poll is done while the loop waits for it
  int wake_fd_;  // an eventfd: wakes the worker (a request, a plan moved, the stop)
  drivers::thread::Worker thread_;  // last: started once the rest is made
};

// Logs, once each, the registers a device started refusing (an older firmware's map) and the
// readings it reports as "not available" (a sensor not fitted): the first time each reading
// goes, at info, in one line for all; after that (a value that reads exactly 0 now and then, as
// a GX's "not available" does) at debug: `told` keeps the names already told.
void log_map_changes(const std::string& device, const drivers::DeviceHealth& before, const drivers::DeviceHealth& after,
                     std::set<std::string>& told);

}  // namespace shackd
