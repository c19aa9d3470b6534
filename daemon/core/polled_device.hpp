#pragma once
// A device the safety core polls: asked at the top of a cycle, waited for until a deadline. A
// PollWorker (daemon/loop/poller.hpp) in production, a scripted device in the tests.
#include <optional>
#include <string>
#include <vector>

#include "daemon/core/register_swap.hpp"
#include "drivers/modbus_device.hpp"
#include "rules/time.hpp"

namespace shackd {

class PolledDevice : public RegisterSwapper {
 public:
  virtual const std::string& name() const = 0;
  // Its units and tables: fixed at construction.
  virtual const std::vector<drivers::UnitConfig>& units() const = 0;
  virtual void request() = 0;
  // The result of the last requested poll, if it finished by `deadline`.
  virtual std::optional<drivers::PollResult> wait(rules::SteadyTime deadline) = 0;
  virtual drivers::DeviceHealth health() = 0;
};

}  // namespace shackd
