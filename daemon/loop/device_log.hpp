#pragma once
// What the polls found, told after the watchdog's ping (issue 44): each device's health as last
// told, the readings it dropped, the registers it began refusing and the exceptions its blocks
// answered. Handed the safety core's poll news as values (DevicePoll::take_news); says what an
// owner must hear of as alarms, for the events, and keeps nothing of the core.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "daemon/core/device_poll.hpp"
#include "drivers/modbus_device.hpp"

namespace shackd {

class DeviceLog {
 public:
  // A device that stopped answering (raised) or answers again.
  struct Alarm {
    bool raised = false;
    std::string text;
  };
  // One poll's news, logged; the devices whose answering changed, in order, as alarms.
  std::vector<Alarm> tell(std::vector<PollNews> news);
  // A device's health as last told: an empty one (not connected) before its first poll is told.
  drivers::DeviceHealth& of(const std::string& name) { return health_[name]; }
  const std::map<std::string, drivers::DeviceHealth>& all() const { return health_; }

 private:
  std::map<std::string, drivers::DeviceHealth> health_;
  std::map<std::string, bool> ok_;                                  // as last logged
  std::map<std::string, std::set<std::string>> told_unavailable_;  // per device (log_map_changes)
  std::map<std::string, std::set<std::string>> told_exceptions_;   // per device (log_poll_exceptions)
};

}  // namespace shackd
