#pragma once
// Refuse a profile set that the rules cannot decide safely with. Each message names the field,
// the value and the rule broken; every problem is listed, not just the first.
#include <string>
#include <vector>

#include "rules/profile.hpp"

namespace rules {

// Empty when the profiles are usable. decide() assumes validated profiles.
std::vector<std::string> validate(const Profiles& profiles);

// What the AC budget will hold on a valid site, said before it runs (rules/ac_notes.cpp): each
// phase of a rated source whose loads cannot all run at once ("at most 2 of 4 loads at once on
// inverter 'inverter': ..."), and each load a generator's rating could never take. Notes, not
// errors: the budget holds a start until there is room.
std::vector<std::string> ac_budget_notes(const Profiles& profiles);

}  // namespace rules
