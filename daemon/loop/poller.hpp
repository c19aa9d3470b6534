#pragma once
// One thread per device, so a slow or dead device never holds up another: the loop asks every
// device to poll, then waits for all of them, at most until a deadline. A poll is bounded by
// its device's timeout, so the deadline is only a backstop.
#include <condition_variable>
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
  void request() override;
  // The result of the last requested poll, if it finished by `deadline`.
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
  std::string name_;
  std::vector<drivers::UnitConfig> units_;
  drivers::ModbusDevice device_;
  std::mutex m_;
  // Not a condition_variable_any: its notify holds an inner lock the woken thread then contends
  // for (strace: two more futex calls each hand-over, issue 57). The stop wakes it through a
  // stop_callback instead (run()).
  std::condition_variable cv_;
  bool requested_ = false, done_ = false;
  drivers::PollResult result_;
  std::vector<Swap> swaps_;
  std::vector<SwapDone> swaps_done_;
  drivers::DeviceHealth health_;
  int done_fd_;  // an eventfd: written when a poll is done, waited on by wait()
  drivers::thread::Worker thread_;  // last: started once the rest is made
};

// Logs, once each, the registers a device started refusing (an older firmware's map) and the
// readings it reports as "not available" (a sensor not fitted): the first time each reading
// goes, at info, in one line for all; after that (a value that reads exactly 0 now and then, as
// a GX's "not available" does) at debug: `told` keeps the names already told.
void log_map_changes(const std::string& device, const drivers::DeviceHealth& before, const drivers::DeviceHealth& after,
                     std::set<std::string>& told);

}  // namespace shackd
