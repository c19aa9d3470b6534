#include "daemon/loop/power_cut.hpp"

#include <fmt/format.h>

#include "daemon/store/load_state_rows.hpp"

namespace shackd {

drivers::mqtt::RelayManager::StartKnown start_known(const LastRun& last, const std::optional<HostBoot>& boot,
                                                    const rules::State& state, const std::vector<LoadRef>& loads,
                                                    rules::SteadyTime now, std::int64_t wall_s, std::string& said) {
  drivers::mqtt::RelayManager::StartKnown k;
  for (const auto& l : loads) {
    if (state_of(state, l).on) k.stored_on.push_back(l.id);
  }
  const bool host_restarted = boot && last.boot_id && *last.boot_id != boot->boot_id;
  const std::string stop = last.stopped_cleanly ? "stopped cleanly" : "did not stop cleanly (a crash, a kill or a power cut)";
  if (host_restarted) {
    // A new boot: the wall clock may have come back from a saved time (a Pi has no RTC), so the
    // last record is not compared with it; the host's own uptime is the reference.
    k.host_up_since = now - boot->uptime;
    k.lost_without_word = !last.stopped_cleanly;
    said = fmt::format("start: the host restarted since the last run, which {}; up {} s: a relay that started with it "
                       "lost its power, and its load must earn its start again",
                       stop, boot->uptime.count());
  } else if (last.last_record_s) {
    k.known_up = to_steady(*last.last_record_s, now, wall_s);
    said = fmt::format("start: the last run {}, its last record {} s ago: a relay that started since lost its power, and "
                       "its load must earn its start again",
                       stop, std::max<std::int64_t>(0, wall_s - *last.last_record_s));
  } else {
    said = "start: no earlier run recorded";
  }
  return k;
}

}  // namespace shackd
