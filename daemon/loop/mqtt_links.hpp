#pragma once
// The daemon's MQTT side (issue 44): the link to the broker, the relay manager that commands
// through it, and the links a reload replaced, each saying goodbye on a thread of its own (a
// disconnect is bounded at 2 s, which the loop never waits for).
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "drivers/mqtt/link.hpp"
#include "drivers/mqtt/relays.hpp"

namespace shackd {

class MqttLinks {
 public:
  // A link and its relays, built aside (at the start, or by a reload on the reloader's thread).
  struct Side {
    std::unique_ptr<drivers::mqtt::Link> link;
    std::unique_ptr<drivers::mqtt::RelayManager> relays;
  };
  // Runs on a replaced link's goodbye thread before its shutdown: whoever sends on it lets go.
  using Release = std::function<void(drivers::mqtt::Link*)>;

  MqttLinks() = default;
  MqttLinks(const MqttLinks&) = delete;
  MqttLinks& operator=(const MqttLinks&) = delete;
  ~MqttLinks() { wait_retiring(); }

  drivers::mqtt::Link* link() const { return link_.get(); }
  drivers::mqtt::RelayManager* relays() const { return relays_.get(); }
  bool connected() const { return link_ && link_->connected(); }
  // Through whatever link is in force when it sends: the relay manager's publisher.
  bool publish(const std::string& topic, const std::string& payload, int qos, bool retain) const {
    return link_ && link_->publish(topic, payload, qos, retain);
  }
  // The relays' lane of the link in force (link.hpp): what stands for relay `id`.
  void stand(const std::string& id, std::vector<drivers::mqtt::Outgoing> commands) const {
    if (link_) link_->stand(id, std::move(commands));
  }
  // `next` in force and started; the link it replaces says goodbye aside, `release` first.
  void take(Side next, Release release);
  // The stop: the link's own bounded shutdown (a clean disconnect publishes offline itself), then
  // every goodbye under way waited for.
  void stop(std::chrono::milliseconds bound);
  // The stop when another thread may still be inside the link's publish (the publisher gave up
  // waiting for one that hangs in the client): the link is neither shut down nor ever destroyed,
  // so that the thread returns into a live object; the process ends around both, and the broker
  // says offline by the link's will.
  void abandon();
  // Waits for the goodbyes under way (the daemon's end: their `release` may name its parts).
  void wait_retiring();

 private:
  std::unique_ptr<drivers::mqtt::Link> link_;
  std::unique_ptr<drivers::mqtt::RelayManager> relays_;
  std::vector<std::future<void>> retiring_;
};

}  // namespace shackd
