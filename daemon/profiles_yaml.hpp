#pragma once
// The `profiles:` section of the YAML config, over the profiles in the database.
//
// Precedence: the YAML wins for every key it gives. A key it leaves out keeps the database's
// value; a miner or zone it does not name keeps all of its database values (profiles are
// never deleted from YAML: set `enabled: false`). A new miner or zone must give the required keys.
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "daemon/profiles.hpp"

namespace shackd {

// Applies `node` (the value of `profiles:`) onto `profiles`. Returns every problem found, with
// its YAML path and line; `profiles` is only meaningful when none is returned. Validates the
// result with validate_stored().
std::vector<std::string> overlay_profiles(const YAML::Node& node, StoredProfiles& profiles,
                                          const std::string& path = "profiles");

// YAML that can be pasted back into the config: a `profiles:` section with every field.
std::string export_profiles_yaml(const StoredProfiles& profiles, const std::string& header_comment = "");

}  // namespace shackd
