#pragma once
// The configured devices, as the loop needs them: the Modbus device and units to poll, the
// charge limits a charge block can hold at 0 A, and the chargers' evidence that they hold PV
// back. Everything comes from the devices' kinds (drivers/device_kind.hpp, listed in
// drivers/kinds.cpp); nothing here or in daemon/loop names a kind.
#include <chrono>
#include <string>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/devices/charge_limit_spec.hpp"
#include "drivers/modbus_device.hpp"
#include "drivers/readings.hpp"
#include "rules/profile.hpp"

namespace shackd::devices {

// The Modbus devices the config enables, one poller each, in the order they are polled.
std::vector<drivers::DeviceConfig> modbus_devices(const Config& config);

// The longest of the enabled devices' timeouts: the loop's backstop for a poll.
std::chrono::milliseconds longest_timeout(const Config& config);

// "victron solark": the enabled kinds, for the start line.
std::string enabled_kinds(const Config& config);

struct ChargeLimitSlot {
  ChargeLimitSpec spec;
  std::string device;  // the poller that writes it
  bool configured;     // named in safety.charge_block_action (else only put back if still held)
  // The row its kind's one device had before devices had names ("solark_charge_limit"): the
  // same as spec.name for a device named after its kind.
  std::string kind_row{};
};
// Every charge limit the enabled devices can hold, chosen or not (a limit the config no longer
// names may still be at 0 A from before: it is put back).
std::vector<ChargeLimitSlot> charge_limits(const Config& config);

// The snapshot's mapping: the config's readings (named as the devices' kinds name them) and the
// chargers' evidence at the site's setpoints.
drivers::SnapshotMapping snapshot_mapping(const Config& config, const rules::Thresholds& thresholds);

// For `check`: each device with where it is and its units, then the sources of each site
// quantity in the order they are used ("battery voltage, best first: the battery monitor's
// voltage (battery.battery_v), ...").
std::vector<std::string> describe(const Config& config);

}  // namespace shackd::devices
