#pragma once
// EG4 (18kPV, 12kPV, 6000XP) and Luxpower (LXP-LB, 12K) hybrid inverters: Luxpower's Modbus RTU
// protocol over RS485 at 19200 8N1, unit 1 (directly, or behind a Modbus-TCP gateway; the WiFi
// dongle's port 8000 speaks Luxpower's own framing and is not this). Readings are input
// registers (function 4), settings holding registers (function 3, written with 6): two address
// spaces at one unit id. Register facts: docs/registers.md §4, from Luxpower's public protocol
// document (OwlBawl/Luxpower-Modbus-RTU, "modbus_protocol_updated_on_2025.06.14.md") and the
// public clients celsworth/lxp-bridge (doc/inputs.md) and ivanfmartinez/luxpower-ha-integration.
#include "drivers/device_kind.hpp"
#include "drivers/registers.hpp"

namespace drivers::eg4 {

const Table& input_table();    // readings: input registers
const Table& holding_table();  // the charge current setting: holding registers
const DeviceKind& kind();      // devices.eg4

}  // namespace drivers::eg4
