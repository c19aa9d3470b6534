#pragma once
// What applying a profile set would change, in the owner's words: "miner 'Cabin S9': added",
// "zone 'Heat Room': removed", "site: voltage_low 47 -> 47.5". `check` prints it; apply logs it
// and records one event per line.
#include <string>
#include <vector>

#include "daemon/site/profiles.hpp"

namespace shackd {

struct ProfileChanges {
  std::vector<std::string> lines;           // one per added, removed or changed profile
  std::vector<std::string> removed_miners;  // names
  std::vector<std::string> removed_zones;
  bool empty() const { return lines.empty(); }
  bool removes() const { return !removed_miners.empty() || !removed_zones.empty(); }
};

ProfileChanges diff_profiles(const StoredProfiles& before, const StoredProfiles& after);

}  // namespace shackd
