#pragma once
// `shackd status`: what is on, why and since when, and each device's health, from the broker's
// retained topics (live) and the database's load_state (since when).
#include <string>
#include <vector>

namespace shackd {

int cmd_status(const std::vector<std::string>& argv);

// One miner's own word, as <prefix>/load/<id>/miner carries it, for people: "mining, 3180 W
// (target 3200 W), 104.2 TH/s, hottest 71 °C (limit 90 °C), fan 4200 rpm, Braiins OS 26.08.1".
// Text that is not such an object: nothing.
std::string miner_status_words(const std::string& payload);

}  // namespace shackd
