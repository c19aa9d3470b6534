#pragma once
// Turning rules' decisions into text for people (the rules return data only).
#include <string>
#include <string_view>

#include "rules/decision.hpp"

namespace shackd {

std::string_view source_name(rules::VoltageSource s);
// For people: "the battery monitor (0.01 V)".
std::string_view source_label(rules::VoltageSource s);
std::string_view band_name(rules::Band b);
std::string hhmm(int minute_of_day);

}  // namespace shackd
