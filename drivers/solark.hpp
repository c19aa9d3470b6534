#pragma once
// Sol-Ark 12K/15K (Deye/Sunsynk family), Modbus RTU at 9600 8N1, unit 1, FC3, directly on RS485
// or through a TCP gateway. Register facts: docs/registers.md §2; transcription of V1.4 in
// tests/fixtures/reference/solark/ (a copy of the public map), which tests/drivers checks this table against.
//
// Sign convention: the Sol-Ark reports battery power and current + = discharging; this table
// negates both so that every battery current in shackd is + = charging, as the GX reports it.
#include "drivers/device_kind.hpp"
#include "drivers/registers.hpp"

namespace drivers::solark {

const Table& table();
const DeviceKind& kind();  // devices.solark

}  // namespace drivers::solark
