// The controller's own health in the loop (issue 47; daemon/system/host_health.hpp): read on its
// own interval, its alarms as events; the publisher sends <prefix>/host. A side job: a failure
// here never holds the decision back.
#include <fmt/format.h>

#include <utility>

#include "daemon/loop/daemon.hpp"
#include "daemon/system/log.hpp"

namespace shackd {

void Daemon::sense_host(rules::SteadyTime now) {
  if (options_.once) return;
  if (!(host_.config() == config_.host)) host_ = HostHealth(config_.host);  // a reload changed host:
  for (auto& c : host_.sample(now)) host_changes_.push_back(std::move(c));
  // Bounded: a side job that failed for many cycles leaves at most this many to tell.
  while (host_changes_.size() > 32) host_changes_.erase(host_changes_.begin());
}

// After the relays: what the reading changed, as log lines and events.
void Daemon::tell_host(std::int64_t wall) {
  for (const auto& c : std::exchange(host_changes_, {})) {
    const std::string text = std::string(rules::host_alarm_name(c.alarm)) + ": " + c.text;
    log::write(c.raised ? log::Level::warn : log::Level::info, text);
    event(c.raised ? "alarm" : "alarm_end", "", {rules::ReasonCode::none}, text, wall);
  }
  for (const auto& p : host_.take_problems()) log::limited("host " + p, log::Level::warn, "controller health: " + p);
}

}  // namespace shackd
