#pragma once
// The device kinds shackd knows, in one place: what each configured device is to the loop (the
// Modbus device and units to poll), what it can write (the charge limits a charge block holds at
// 0 A) and what it says about the chargers (evidence that they hold PV back). The loop and the
// publisher loop over what this returns; no code in daemon/loop names a brand (its comments use
// them as examples).
#include <chrono>
#include <string>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/loop/charge_limit.hpp"
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
};
// Every charge limit a device kind can hold, configured or not (a limit the config no longer
// names may still be at 0 A from before: it is put back).
std::vector<ChargeLimitSlot> charge_limits(const Config& config);

// The chargers' evidence of holding PV back (a GX charger's state, a Sol-Ark held at the site's
// setpoints) added to `mapping`.
void add_charger_evidence(const Config& config, const rules::Thresholds& thresholds, drivers::SnapshotMapping& mapping);

}  // namespace shackd::devices
