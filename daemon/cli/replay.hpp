#pragma once
// `shackd replay`: the rules over recorded telemetry with a virtual clock, printing the timeline
// of decisions; with --set, how a profile change would have played out, against the profiles
// as they are.
#include <string>
#include <vector>

namespace shackd {

int cmd_replay(const std::vector<std::string>& argv);

}  // namespace shackd
