#pragma once
// The Deye family's device types (holding register 0), one list for its maps: the single-phase
// hybrid map (Deye, Sunsynk and Sol-Ark single-phase hybrids: drivers/solark.cpp, kind solark)
// and the low-voltage three-phase map (drivers/deye_3p.cpp, kind deye_3p) each take their own
// kind's and refuse the others (docs/registers.md §2.9).
#include "drivers/registers.hpp"

namespace drivers::deye {

// Every device type the public sources name, with the kind that reads it.
std::span<const FamilyValue> family();
const Identity& single_phase_identity();
const Identity& three_phase_lv_identity();

}  // namespace drivers::deye
