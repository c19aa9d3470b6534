#pragma once
// The devices' own alarms over time (drivers/device_status.hpp): which appeared and which
// cleared since the last cycle, for the events, and the set in force, for <prefix>/device_alarms.
// An alarm whose reading went stale stays in force: only a fresh reading clears it.
#include <map>
#include <string>
#include <vector>

#include "drivers/device_status.hpp"

namespace shackd {

struct DeviceAlarmChange {
  drivers::DeviceAlarm alarm;
  bool raised = true;  // false: cleared
};

class DeviceAlarmWatch {
 public:
  std::vector<DeviceAlarmChange> update(const drivers::DeviceStatus& now);
  const std::map<std::string, drivers::DeviceAlarm>& active() const { return active_; }
  const std::vector<drivers::DeviceState>& states() const { return states_; }

 private:
  std::map<std::string, drivers::DeviceAlarm> active_;  // by id
  std::vector<drivers::DeviceState> states_;
};

// "victron battery.low_cell_voltage: a cell's voltage is low (warning)"; "... cleared" when cleared.
std::string describe(const DeviceAlarmChange& c);

// <prefix>/device_alarms (retained): {"alarms":[{"id":..,"device":..,"level":"alarm"|"warning",
// "text":..}],"count":{"alarm":n,"warning":n},"states":{"charger1.charge_state":"bulk",...}}
std::string device_alarms_json(const DeviceAlarmWatch& w);

}  // namespace shackd
