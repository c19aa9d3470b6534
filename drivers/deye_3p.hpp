#pragma once
// Deye/Sunsynk low-voltage three-phase hybrids (Deye SUN-xK-SG0xLP3, Sunsynk 3-phase 5-12 kW), one
// unit over Modbus RTU at 9600 8N1 or through a TCP gateway, function 3 reads and 16 writes like
// the single-phase family, with its own map (kellerza/sunsynk definitions/three_phase_common.py
// and three_phase_lv.py; evcc's deye-hybrid-3p template draws the same line). Device type 5 in
// register 0: any other Deye family is refused. docs/registers.md §2.9.
#include "drivers/device_kind.hpp"
#include "drivers/registers.hpp"

namespace drivers::deye_3p {

const Table& table();
const DeviceKind& kind();  // devices.deye_3p

}  // namespace drivers::deye_3p
