#pragma once
// One cycle by reference, for the side that reads it on the loop's thread (the metrics'
// collector, daemon/metrics/collect.hpp): here, not beside the publisher, so that the metrics
// need no part of the publisher.
#include <string>
#include <utility>
#include <vector>

#include "daemon/core/loop_stats.hpp"
#include "daemon/devices/device_alarms.hpp"
#include "daemon/site/energy.hpp"
#include "daemon/site/loads.hpp"
#include "daemon/site/profiles.hpp"
#include "daemon/vocab/publish.hpp"
#include "drivers/modbus_device.hpp"
#include "drivers/mqtt/relays.hpp"
#include "rules/decision.hpp"
#include "rules/snapshot.hpp"

namespace shackd {

// One cycle's outcome and the site's state, by reference, as the metrics' collector reads it
// (daemon/metrics/collect.hpp); the publisher takes its own copy (CycleFacts).
struct CycleView {
  const rules::Snapshot& snap;
  const rules::Decision& decision;
  const rules::State& state;
  const StoredProfiles& profiles;
  const std::vector<LoadRef>& loads;
  const drivers::mqtt::RelayManager* relays;  // null when MQTT is not started
  const EnergyMeter& energy;
  // Each device's health, in poll order.
  const std::vector<std::pair<std::string, const drivers::DeviceHealth*>>& devices;
  const MqttHealth& mqtt;
  const LoopStats& loop;
  const DeviceAlarmWatch& device_alarms;
};

}  // namespace shackd
