#pragma once
// What `shackd once` prints: the battery and its source, the charge decision, the other inputs,
// the devices' own alarms, each load's decision and the limits in force.
#include <string>
#include <vector>

#include "daemon/devices/device_alarms.hpp"
#include "daemon/site/loads.hpp"
#include "daemon/site/profiles.hpp"
#include "rules/decision.hpp"
#include "rules/snapshot.hpp"

namespace shackd {

struct OnceView {
  const rules::Snapshot& snap;
  const rules::Decision& decision;
  const StoredProfiles& profiles;
  const std::vector<LoadRef>& loads;
  const DeviceAlarmWatch& device_alarms;
};

std::string once_table(const OnceView& v);

}  // namespace shackd
