#pragma once
// The site's alarms as news (issue 44): the rules' alarms as they appear, the devices' own alarms
// (a BMS's, a charger's, an inverter's) as they appear or clear, and the charge block as it begins
// or ends. Handed the cycle's decision and the devices' status as values after the watchdog's
// ping; returns what is to be an event, logs as it goes, and keeps only what it last said.
#include <set>
#include <string>
#include <vector>

#include "daemon/devices/device_alarms.hpp"
#include "drivers/device_status.hpp"
#include "rules/decision.hpp"
#include "rules/reason.hpp"
#include "rules/snapshot.hpp"

namespace shackd {

class AlarmWatch {
 public:
  struct Note {
    bool raised = true;      // "alarm", else "alarm_end"
    rules::Reason reason;
    std::string text;        // empty: the reason's own words
    bool about_cycle = true;  // stamped with the cycle's battery, PV and load (the rules' and the block's)
  };
  // The rules' new alarms, the devices' changes, then the charge block's, in that order.
  std::vector<Note> tell(const rules::Snapshot& snap, const rules::Decision& d, const drivers::DeviceStatus& devices);
  const DeviceAlarmWatch& device_alarms() const { return devices_; }

 private:
  std::set<int> active_;
  DeviceAlarmWatch devices_;
  bool charge_blocked_ = false;  // as last told: the limits follow the decision in the cycle
};

}  // namespace shackd
