#pragma once
// The config's `miners:` section: a miner's own API, by the relay id of its profile.
//   miners:
//     primary_s21: {kind: luxos, host: 192.168.1.60}
// A miner without an entry is switched by its relay alone, as before.
#include <vector>

#include "daemon/config/field_reader.hpp"
#include "drivers/miners/miner_kind.hpp"

namespace shackd {

void parse_miners(const YAML::Node& node, yaml::Reader& r, std::vector<drivers::miners::MinerConfig>& out);

}  // namespace shackd
