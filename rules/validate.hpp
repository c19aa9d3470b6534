#pragma once
// Refuse a profile set that the rules cannot decide safely with. Each message names the field,
// the value and the rule broken; every problem is listed, not just the first.
#include <string>
#include <vector>

#include "rules/profile.hpp"

namespace rules {

// Empty when the profiles are usable. decide() assumes validated profiles.
std::vector<std::string> validate(const Profiles& profiles);

}  // namespace rules
