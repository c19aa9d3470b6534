#pragma once
// What a start knows of the time before it, for the relays' judgement of a power cut (issue 56;
// drivers/mqtt/relays.hpp): shackd's last record and whether that run stopped cleanly
// (daemon/store/last_run.hpp), and whether the host itself restarted since (its boot id).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "daemon/site/loads.hpp"
#include "daemon/store/last_run.hpp"
#include "daemon/system/host_boot.hpp"
#include "drivers/mqtt/relays.hpp"
#include "rules/state.hpp"

namespace shackd {

// `said`: one line for the log, what the start concluded.
drivers::mqtt::RelayManager::StartKnown start_known(const LastRun& last, const std::optional<HostBoot>& boot,
                                                    const rules::State& state, const std::vector<LoadRef>& loads,
                                                    rules::SteadyTime now, std::int64_t wall_s, std::string& said);

}  // namespace shackd
