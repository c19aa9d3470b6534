#pragma once
// The publisher's report after a cycle (issue 57: out of Daemon): what it could not send and what
// failed on its thread, counted in the loop's figures (status, <prefix>/loop, metrics) and, when
// the losses go on, an alarm through the Events sink (never silent, issue 44). Beside
// publisher.hpp so that the publisher itself stays about sending.
#include <cstdint>

#include "daemon/core/events.hpp"
#include "daemon/core/loop_stats.hpp"
#include "rules/time.hpp"

namespace shackd {

class Publisher;

void report_publisher(Publisher& publisher, LoopStats& stats, Events& events, rules::SteadyTime now, std::int64_t wall_s);

}  // namespace shackd
