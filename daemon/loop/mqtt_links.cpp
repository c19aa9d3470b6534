#include "daemon/loop/mqtt_links.hpp"

#include <utility>

namespace shackd {

std::optional<drivers::mqtt::Event> MqttLinks::poll() const {
  if (!link_) return std::nullopt;
  return link_->poll(std::chrono::milliseconds(0));
}

void MqttLinks::take(Side next, rules::SteadyTime now) {
  std::shared_ptr<drivers::mqtt::Link> old = holder_->put(std::shared_ptr<drivers::mqtt::Link>(std::move(next.link)));
  link_ = holder_->get();
  // Before the new link starts: what stands for its CONNACK is the carried state's.
  if (relays_ && next.relays) next.relays->carry_over(std::move(*relays_), now);
  relays_ = std::move(next.relays);
  if (link_) link_->start();
  std::erase_if(retiring_, [](const drivers::thread::Worker& w) { return w.finished(); });
  if (old) {
    retiring_.emplace_back("mqtt-goodbye", [old = std::move(old)](std::stop_token) mutable {
      old->shutdown(std::chrono::milliseconds(2000));
      old.reset();  // freed here unless a lane's caller is still inside it: then by that caller
    });
  }
}

void MqttLinks::stop(std::chrono::milliseconds bound) {
  std::shared_ptr<drivers::mqtt::Link> last = holder_->put(nullptr);
  link_.reset();
  if (last) last->shutdown(bound);
  last.reset();
  wait_retiring();
}

drivers::thread::Stopped MqttLinks::stop(const drivers::thread::Deadline& deadline) {
  const auto began = deadline.now();
  stop(deadline.capped(kDisconnectBound).left());
  return drivers::thread::Stopped::end("link", deadline, began, true);
}

void MqttLinks::wait_retiring() {
  for (auto& w : retiring_) w.join();
  retiring_.clear();
}

}  // namespace shackd
