#pragma once
// Turning rules' decisions into text for people (the rules return data only).
#include <string>
#include <string_view>
#include <vector>

#include "rules/decision.hpp"
#include "rules/profile.hpp"
#include "rules/snapshot.hpp"

namespace shackd {

// The source at index `i` of a snapshot's ranked list (rules::kNoSource: none).
const rules::Source* source_at(const std::vector<rules::Source>& sources, int i);
std::string_view source_name(const std::vector<rules::Source>& sources, int i);  // "battery_monitor", "none"
std::string_view source_label(const std::vector<rules::Source>& sources, int i);  // for people
// What the charge decision was made on: "from the Sol-Ark's battery sensor", "from the air of
// Heat Room", "no temperature".
std::string charge_temp_from(const rules::Snapshot& snap, const rules::Decision& d, const rules::Profiles& p);
std::string_view band_name(rules::Band b);
std::string hhmm(int minute_of_day);

}  // namespace shackd
