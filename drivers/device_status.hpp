#pragma once
// The states and alarms a device reports in its own registers (a BMS's low-cell alarm, a
// charger's fault state, an inverter's fault words), named by its table's StatusRules
// (registers.hpp). Only fresh readings count: what a device that stopped answering reports now
// is unknown, and listed as such, so an alarm is never cleared by silence.
#include <string>
#include <vector>

#include "drivers/modbus_device.hpp"
#include "drivers/readings.hpp"

namespace drivers {

struct DeviceAlarm {
  std::string id;       // "battery.low_cell_voltage", "solark.F56"
  std::string device;   // "victron"
  std::string reading;  // what it was read from: "battery.alarm_low_cell_voltage"
  std::string text;     // "a cell's voltage is low"
  bool warning = false;
};

struct DeviceState {
  std::string id;     // "charger1.charge_state"
  std::string value;  // "bulk", "120 A"
};

struct DeviceStatus {
  std::vector<DeviceAlarm> alarms;
  std::vector<DeviceState> states;
  std::vector<std::string> unknown;  // readings with status rules that are missing or stale
};

// Adds one device's states and alarms, from its units' tables, to `out`.
void add_device_status(DeviceStatus& out, const std::string& device, const std::vector<UnitConfig>& units,
                       const ReadingStore& store, SteadyTime now, rules::Duration fresh_within);

// Adds a device's identity alarms (DeviceHealth::identity_alarms: a unit its map does not fit, or
// whose device type changed) as device alarms "<unit>.device_type", in force while its health says so.
void add_identity_alarms(DeviceStatus& out, const std::string& device, const DeviceHealth& health);

}  // namespace drivers
