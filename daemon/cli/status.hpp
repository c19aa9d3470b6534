#pragma once
// `shackd status`: what is on, why and since when, and each device's health, from the broker's
// retained topics (live) and the database's load_state (since when).
#include <string>
#include <vector>

namespace shackd {

int cmd_status(const std::vector<std::string>& argv);

}  // namespace shackd
