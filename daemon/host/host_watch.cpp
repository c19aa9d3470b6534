// The controller's own health in the daemon (daemon/host/host_watch.hpp): read on its own
// interval, its alarms told after the relays (<prefix>/host is the publisher's). A side job: a
// failure here never holds the decision back.
#include "daemon/host/host_watch.hpp"

#include <utility>

#include "daemon/system/log.hpp"

namespace shackd {

void HostWatch::sense(const HostConfig& config, rules::SteadyTime now) {
  if (!(health_.config() == config)) health_ = HostHealth(config);  // a reload changed host:
  for (auto& c : health_.sample(now)) changes_.push_back(std::move(c));
  // Bounded: a side job that failed for many cycles leaves at most this many to tell.
  while (changes_.size() > 32) changes_.erase(changes_.begin());
}

void HostWatch::tell(const std::function<void(bool raised, const std::string& text)>& alarm) {
  for (const auto& c : std::exchange(changes_, {})) {
    const std::string text = std::string(rules::host_alarm_name(c.alarm)) + ": " + c.text;
    log::write(c.raised ? log::Level::warn : log::Level::info, text);
    alarm(c.raised, text);
  }
  for (const auto& p : health_.take_problems()) log::limited("host " + p, log::Level::warn, "controller health: " + p);
}

}  // namespace shackd
