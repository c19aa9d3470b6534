#pragma once
// The daemon's MQTT side (issue 44; issue 57: its one owner): the link to the broker, the relay
// manager that commands through it, and the links a reload replaced, each saying goodbye on a
// thread of its own (a disconnect is bounded at 2 s, which the loop never waits for). Nobody
// else holds the link: the relay manager sends through the relay lane, the publisher and the
// events' outbox through the bulk lane (drivers/mqtt/lanes.hpp), each routed to the link in
// force when it sends and keeping that link alive while it is inside it.
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "drivers/mqtt/lanes.hpp"
#include "drivers/mqtt/link.hpp"
#include "drivers/mqtt/relays.hpp"
#include "drivers/thread/deadline.hpp"
#include "drivers/thread/worker.hpp"

namespace shackd {

class MqttLinks {
 public:
  // A link and its relays, built aside (at the start, or by a reload on the reloader's thread).
  struct Side {
    std::unique_ptr<drivers::mqtt::Link> link;
    std::unique_ptr<drivers::mqtt::RelayManager> relays;
  };

  MqttLinks() = default;
  MqttLinks(const MqttLinks&) = delete;
  MqttLinks& operator=(const MqttLinks&) = delete;
  ~MqttLinks() { stop(std::chrono::milliseconds(1000)); }

  drivers::mqtt::RelayManager* relays() const { return relays_.get(); }
  bool present() const { return link_ != nullptr; }
  bool connected() const { return link_ && link_->connected(); }
  // The link's next event (the intake's, on the loop's thread), never waiting.
  std::optional<drivers::mqtt::Event> poll() const;
  long long dropped_incoming() const { return link_ ? link_->dropped_incoming() : 0; }
  // The lanes (drivers/mqtt/lanes.hpp), valid for the owner's life and beyond: each routes to the
  // link in force when it sends, and to none after the stop.
  drivers::mqtt::RelayLane relay_lane() const { return drivers::mqtt::RelayLane(holder_); }
  drivers::mqtt::BulkLane bulk_lane() const { return drivers::mqtt::BulkLane(holder_); }
  // `next` in force and started; the link it replaces says goodbye aside (its shutdown, bounded),
  // and is freed once the last caller inside it has left. The relays `next` still has carry what
  // the manager it replaces knew of them (RelayManager::carry_over), at `now`.
  void take(Side next, rules::SteadyTime now = {});
  // The stop: the lanes route to no link from here on; the link's own bounded shutdown (a clean
  // disconnect publishes offline itself); every goodbye under way waited for. A caller still
  // inside the link (a publish that never returned) keeps it alive until it leaves: the stop is
  // bounded by the shutdown, never by that caller.
  void stop(std::chrono::milliseconds bound);
  // The stop's face (issue 57): stop() within what is left of `deadline`, capped by kDisconnectBound.
  // The goodbyes are each bounded by the same 2 s and waited for: never left behind.
  static constexpr std::chrono::milliseconds kDisconnectBound{2000};
  drivers::thread::Stopped stop(const drivers::thread::Deadline& deadline);
  // Waits for the goodbyes under way.
  void wait_retiring();

 private:
  std::shared_ptr<drivers::mqtt::LinkHolder> holder_ = std::make_shared<drivers::mqtt::LinkHolder>();
  std::shared_ptr<drivers::mqtt::Link> link_;  // the one in force, as the holder has it
  std::unique_ptr<drivers::mqtt::RelayManager> relays_;
  std::vector<drivers::thread::Worker> retiring_;
};

}  // namespace shackd
