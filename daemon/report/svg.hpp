#pragma once
// A day as one SVG page: battery voltage with the thresholds, PV and load, each load's
// on-periods with the time and reason of each switch, and the alarms and overrides. Plain SVG
// 1.1 (opens in any browser; rsvg-convert makes the PNG). Times are shown in the process's local
// timezone: the caller sets TZ to the site's.
#include <string>

#include "daemon/report/day.hpp"

namespace shackd::report {

std::string render_svg(const Day& day);

// "&amp;" for "&", and so on: text from the database is the owner's (load names, details).
std::string xml_escape(const std::string& s);

}  // namespace shackd::report
