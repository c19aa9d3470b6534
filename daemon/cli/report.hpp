#pragma once
// `shackd report`: one day from the database as a picture (SVG, or PNG through rsvg-convert):
// battery voltage with the thresholds, PV and load, each load's on-periods with the reason at
// each switch, alarms and overrides. Reads only.
#include <string>
#include <vector>

namespace shackd {

int cmd_report(const std::vector<std::string>& argv);

}  // namespace shackd
