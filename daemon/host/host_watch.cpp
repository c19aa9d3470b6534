// The controller's own health in the daemon (daemon/host/host_watch.hpp): read on a thread of its
// own at its own interval, its alarms told after the relays (<prefix>/host is the publisher's). A
// side job: a failure here never holds the decision back, and a slow or huge sysfs never holds a
// cycle.
#include "daemon/host/host_watch.hpp"

#include <memory>
#include <utility>

#include "daemon/system/log.hpp"

namespace shackd {

void HostWatch::sense(const HostConfig& config, rules::SteadyTime now) {
  if (!(health_.config() == config)) {  // a reload changed host: (or the first cycle)
    health_ = HostHealth(config, false);
    ++generation_;
    started_at_.reset();
  }
  if (auto r = job_.take()) {
    if (r->generation == generation_) {
      found_ = found_ || (!health_.discovered() && r->sources.any());
      for (auto& c : health_.take(std::move(r->sources), std::move(r->reading), now)) changes_.push_back(std::move(c));
    }
  }
  // Bounded: a side job that failed for many cycles leaves at most this many to tell.
  while (changes_.size() > 32) changes_.erase(changes_.begin());
  if (!config.enabled || job_.pending() || (started_at_ && now - *started_at_ < config.interval)) return;
  started_at_ = now;
  // The sources are found once for a config, by the first read; each read after reads them.
  job_.start([root = config.root, sources = health_.sources(), known = health_.discovered(), generation = generation_] {
    auto r = std::make_unique<Read>();
    r->generation = generation;
    r->sources = known ? sources : drivers::host::discover_host(root);
    r->reading = drivers::host::read_host(r->sources);
    return r;
  });
}

void HostWatch::tell(const std::function<void(bool raised, const std::string& text)>& alarm) {
  for (const auto& c : std::exchange(changes_, {})) {
    const std::string text = std::string(rules::host_alarm_name(c.alarm)) + ": " + c.text;
    log::write(c.raised ? log::Level::warn : log::Level::info, text);
    alarm(c.raised, text);
  }
  // One limit for all of them (issue 56: one per problem's text was none for a file whose bytes
  // change at every read); each is already said once while it lasts (HostHealth).
  for (const auto& p : health_.take_problems()) log::limited("controller health", log::Level::warn, "controller health: " + p);
}

}  // namespace shackd
