#include "daemon/core/device_poll.hpp"

#include <utility>

namespace shackd {

void DevicePoll::set(std::vector<std::unique_ptr<PolledDevice>> devices, std::chrono::milliseconds longest_timeout) {
  devices_ = std::move(devices);
  longest_timeout_ = longest_timeout;
}

void DevicePoll::poll(rules::SteadyTime started, std::optional<std::chrono::milliseconds> bound) {
  // Every device at once; a slow one costs at most its own timeout.
  for (auto& d : devices_) d->request();
  // The loop goes on without a poll that outlasts its device's timeout (a later cycle takes it).
  // `once` has no later cycle: it passes a bound of its own, a backstop behind its requests' own
  // timeouts (seen: a loaded machine under ASan took longer than 750 ms for a whole poll, and
  // `once` printed every reading missing).
  const auto deadline = started + bound.value_or(longest_timeout_ + std::chrono::milliseconds(250));
  news_.clear();
  for (auto& d : devices_) {
    PollNews p{d->name(), {}, {}, {}};  // its health once the poll is taken, below
    if (auto r = d->wait(deadline)) {
      readings_.update(*r);
      p.invalid = std::move(r->invalid);
      p.errors = std::move(r->errors);
    }
    p.health = d->health();
    news_.push_back(std::move(p));
  }
}

}  // namespace shackd
