#pragma once
// A real Modbus device (drivers::ModbusDevice: its link, plan, decoding and recovery) polled on
// the loop's own thread and stamped by the test's stepped clock, so that a scenario of hours runs
// against the simulator's servers on loopback in seconds. The PollWorker's thread and its
// real-clock deadline are what it leaves out; tests/e2e/ run those.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/loop/seams.hpp"
#include "drivers/modbus_device.hpp"
#include "tests/support/scripted_device.hpp"

namespace test {

class SteppedDevice final : public shackd::PolledDevice {
 public:
  SteppedDevice(drivers::DeviceConfig c, const StepClock& clock)
      : name_(c.name), units_(c.units), device_(std::move(c), [&clock] { return clock.steady(); }) {}
  const std::string& name() const override { return name_; }
  const std::vector<drivers::UnitConfig>& units() const override { return units_; }
  // As the PollWorker: the swaps asked for since the last poll first, then the poll.
  void request() override {
    for (const auto& s : std::exchange(swaps_, {})) done_.push_back({s, device_.swap_register(s.unit, s.address, s.value)});
    result_ = device_.poll();
  }
  std::optional<drivers::PollResult> wait(rules::SteadyTime) override { return std::exchange(result_, std::nullopt); }
  drivers::DeviceHealth health() override { return device_.health(); }
  void swap(shackd::RegisterSwap s) override { swaps_.push_back(s); }
  std::vector<shackd::RegisterSwapDone> take_swaps() override { return std::exchange(done_, {}); }

 private:
  std::string name_;
  std::vector<drivers::UnitConfig> units_;
  drivers::ModbusDevice device_;
  std::optional<drivers::PollResult> result_;
  std::vector<shackd::RegisterSwap> swaps_;
  std::vector<shackd::RegisterSwapDone> done_;
};

}  // namespace test
