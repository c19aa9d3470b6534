#pragma once
// Victron GX over Modbus TCP (dbus-modbustcp). Register facts: docs/registers.md §1; the authority is
// tests/fixtures/reference/victron/attributes.csv (copied from victronenergy/dbus_modbustcp), which
// tests/drivers checks this table against.
#include "drivers/device_kind.hpp"
#include "drivers/registers.hpp"

namespace drivers::victron {

const Table& system_table();        // unit 100
const Table& battery_table();       // battery monitor, unit = device instance (225, 226, 239 ...)
const Table& solarcharger_table();  // each MPPT, unit = device instance
const Table& temperature_table();   // temperature service, unit = device instance
const Table& vebus_table();         // VE.Bus inverter/charger, unit = its port's (227, 242, 246 ...)
const DeviceKind& kind();           // devices.victron

}  // namespace drivers::victron
