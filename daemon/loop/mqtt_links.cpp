#include "daemon/loop/mqtt_links.hpp"

#include <utility>

namespace shackd {

void MqttLinks::take(Side next, Release release) {
  if (link_) {
    retiring_.push_back(std::async(std::launch::async, [old = std::move(link_), release = std::move(release)]() mutable {
      if (release) release(old.get());  // a publish under way on it ends first
      old->shutdown(std::chrono::milliseconds(2000));
      old.reset();
    }));
  }
  relays_ = std::move(next.relays);
  link_ = std::move(next.link);
  if (link_) link_->start();
  std::erase_if(retiring_, [](const std::future<void>& f) {
    return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  });
}

void MqttLinks::stop(std::chrono::milliseconds bound) {
  if (link_) link_->shutdown(bound);
  wait_retiring();
}

void MqttLinks::abandon() {
  // Never freed, and reachable from here: not a leak to LSan, and alive until the process ends.
  static auto* const parked = new std::vector<std::unique_ptr<drivers::mqtt::Link>>();
  if (link_) parked->push_back(std::move(link_));
}

void MqttLinks::wait_retiring() {
  for (auto& f : retiring_) f.wait();
  retiring_.clear();
}

}  // namespace shackd
