#pragma once
// The Deye family's device types (holding register 0), one list for its maps: the single-phase
// hybrid map (Deye, Sunsynk and Sol-Ark single-phase hybrids: drivers/solark.cpp) and the
// low-voltage three-phase map (drivers/deye_3p.cpp) each take their own and refuse the others
// (docs/registers.md §2.9).
#include "drivers/registers.hpp"

namespace drivers::deye {

const Identity& single_phase_identity();
const Identity& three_phase_lv_identity();

}  // namespace drivers::deye
