#pragma once
// The config's `miners:` section: a miner's own API, by the relay id of its profile.
//   miners:
//     primary_s21: {kind: luxos, host: 192.168.1.60}
// A miner without an entry is switched by its relay alone, as before.
#include <vector>

#include "daemon/config/field_reader.hpp"
#include "daemon/site/profiles.hpp"
#include "drivers/miners/miner_kind.hpp"

namespace shackd {

void parse_miners(const YAML::Node& node, yaml::Reader& r, std::vector<drivers::miners::MinerConfig>& out);

// A miner that follows the surplus takes its power target from its miners: entry (the range is
// the miner's, not the profile's): into the profile whose relay is that entry's id.
void apply_miner_targets(const std::vector<drivers::miners::MinerConfig>& miners, StoredProfiles& p);

}  // namespace shackd
