#pragma once
// The safety core's devices (issue 44): the polled devices' workers, the readings they gave, and
// what the last poll found, handed over as values to be told after the watchdog's ping. The core
// waits on nothing but these devices: a poll is bounded by its slowest device's timeout.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/core/polled_device.hpp"
#include "drivers/modbus_device.hpp"
#include "drivers/readings.hpp"
#include "rules/time.hpp"

namespace shackd {

// One device's part of a poll, told after the ping (dropped readings, its health, its errors).
struct PollNews {
  std::string name;
  std::vector<drivers::Invalid> invalid;
  std::vector<std::string> errors;  // its blocks' exceptions (log_poll_exceptions)
  drivers::DeviceHealth health;
};

class DevicePoll {
 public:
  // The devices in force (at the start, or a reload that changed them) and the slowest one's timeout.
  void set(std::vector<std::unique_ptr<PolledDevice>> devices, std::chrono::milliseconds longest_timeout);
  // Every device at once; waits until `started` + the longest timeout + 250 ms, or + `bound`.
  void poll(rules::SteadyTime started, std::optional<std::chrono::milliseconds> bound = std::nullopt);
  // What the last poll found, taken once.
  std::vector<PollNews> take_news() { return std::exchange(news_, {}); }
  // A reading that came another way (an MQTT sensor).
  void set_reading(const std::string& name, double value, rules::SteadyTime as_of) { readings_.set(name, value, as_of); }
  const drivers::ReadingStore& readings() const { return readings_; }
  const std::vector<std::unique_ptr<PolledDevice>>& devices() const { return devices_; }

 private:
  std::vector<std::unique_ptr<PolledDevice>> devices_;
  std::chrono::milliseconds longest_timeout_{0};
  drivers::ReadingStore readings_;
  std::vector<PollNews> news_;
};

}  // namespace shackd
