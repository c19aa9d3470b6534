#pragma once
// The MQTT link's one owner and its two lanes (issue 57). The owner (the daemon's MqttLinks) puts
// the link in force into a LinkHolder and hands out lanes; nobody else holds the link. A lane
// routes each call to the link in force when the call is made and keeps that link alive while the
// call is inside it, so a reload's goodbye or the daemon's stop never destroys a link under a
// caller (a publisher's thread left inside a publish that never returned: before, the link was
// leaked on purpose for it).
//  - The relay lane (the relay manager): commands and questions go to the library at once
//    (Link::publish), and each relay's command in force stands with the link (Link::stand), sent
//    first at every connect.
//  - The bulk lane (the publisher, the events' outbox): paced by the link (Link::publish_bulk,
//    Link::publish_confirmed), so that the library holds at most a small window of bulk messages
//    not yet written or acknowledged, and a relay command is never queued behind a thousand of
//    them: libmosquitto writes its queue in order on one socket.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "drivers/mqtt/link.hpp"

namespace drivers::mqtt {

// The link in force, shared by the owner and its lanes. Thread-safe.
class LinkHolder {
 public:
  // A reference to the link in force (null: none), which keeps it alive while the caller uses it,
  // and its generation (which link a ticket was taken on: it changes with every put()).
  struct Current {
    std::shared_ptr<Link> link;
    std::uint64_t generation = 0;
  };
  Current current() const;
  std::shared_ptr<Link> get() const { return current().link; }
  // `next` in force; returns the one it replaces.
  std::shared_ptr<Link> put(std::shared_ptr<Link> next);

 private:
  mutable std::mutex m_;
  std::shared_ptr<Link> link_;
  std::uint64_t generation_ = 0;
};

class RelayLane {
 public:
  RelayLane() = default;  // no link: nothing taken
  explicit RelayLane(std::shared_ptr<const LinkHolder> holder) : holder_(std::move(holder)) {}
  // At once, on the link in force; false when there is none, it is down, or it refused.
  bool publish(const std::string& topic, const std::string& payload, int qos, bool retain) const;
  // What stands for relay `id` on the link in force (Link::stand).
  void stand(const std::string& id, std::vector<Outgoing> commands) const;

 private:
  std::shared_ptr<const LinkHolder> holder_;
};

class BulkLane {
 public:
  BulkLane() = default;  // no link: nothing taken
  explicit BulkLane(std::shared_ptr<const LinkHolder> holder) : holder_(std::move(holder)) {}
  explicit operator bool() const { return holder_ != nullptr; }
  bool connected() const;
  // Waits at most `wait` for room in the link's window (Link::publish_bulk); false when not taken.
  bool publish(const std::string& topic, const std::string& payload, int qos, bool retain,
               std::chrono::milliseconds wait) const;
  // A QoS 1 message whose acknowledgement the caller follows; never waits: 0 when not taken (no
  // link, no room in the window, refused). The ticket names the link it was taken on: once
  // another link is in force, delivered() says false for it (what was in flight on the old
  // connection is sent again by the caller).
  std::uint64_t publish_confirmed(const std::string& topic, const std::string& payload, bool retain) const;
  std::optional<bool> delivered(std::uint64_t ticket) const;
  void forget(std::uint64_t ticket) const;

 private:
  std::shared_ptr<const LinkHolder> holder_;
};

}  // namespace drivers::mqtt
