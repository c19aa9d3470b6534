#pragma once
// What the simulator's Sol-Ark serves: the driver's own table (drivers/solark.cpp, what shackd
// polls) and the rows only `probe` reads: its rated power, registers 16-17 (kellerza/sunsynk
// definitions/single_phase.py, RATED_POWER: unsigned 32 bits, the low word first, 0.1 W; issue 59),
// from the model's --inverter-w (0: not reported). That the Sol-Ark's nameplate is the figure a
// model's rating gives is the simulator's assumption: no public document says what a Sol-Ark
// 12K or 15K reports there.
#include "drivers/registers.hpp"

namespace sim {

const drivers::Table& solark_served_table();

}  // namespace sim
