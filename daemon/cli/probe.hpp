#pragma once
// `shackd probe`: finds the GX's unit ids and map generation, checks a Sol-Ark, and prints a
// ready devices: block (drivers/probe.hpp does the reading).
#include <string>
#include <vector>

namespace shackd {

int cmd_probe(const std::vector<std::string>& argv);

}  // namespace shackd
