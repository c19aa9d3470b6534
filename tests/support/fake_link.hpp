#pragma once
// An in-process MQTT link for the daemon (drivers/mqtt/link.hpp): what the daemon publishes is
// recorded, what the test puts in `inbound` is what the daemon reads, and `up` says whether the
// "broker" is there. The relay layer, commands, outages and reconnects run on the test's stepped
// clock, with no broker and no sleeps.
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "drivers/mqtt/link.hpp"

namespace test {

struct FakeBroker {
  struct Message {
    std::string topic, payload;
    int qos;
    bool retain;
  };
  bool up = true;
  // false: a transport that takes every message and never acknowledges one (no PUBACK).
  bool acknowledges = true;
  // The next this many publishes are refused while up, as a link refuses what it cannot take (once paho's buffer of unsent
  // messages, MQTTASYNC_MAX_BUFFERED_MESSAGES).
  int refuse = 0;
  std::deque<drivers::mqtt::Event> inbound;  // what the daemon's link polls next
  std::vector<Message> published;            // everything the daemon published while up
  // Told of each as it is published (a bench's clock; a test's publish that blocks), outside the
  // lock below: a copy, so that it may block while other threads publish.
  std::function<void(const Message&)> on_publish;
  // Held while a message is recorded: the publisher's thread (daemon/publish/publisher.hpp, when a
  // test asks for it) publishes beside the loop's relays and events.
  std::mutex publish_m;
  std::set<std::string> subscriptions;
  // Links destroyed, counted where a thread left inside one can still read it after the broker.
  std::shared_ptr<std::atomic<int>> links_destroyed = std::make_shared<std::atomic<int>>(0);
  int links_made = 0;     // built (a reload builds one aside)
  int links_started = 0;  // taken into use

  // `arrived`: when the link took it (the process's steady clock), as the real link stamps it.
  void message(std::string topic, std::string payload, bool retained = false,
               std::chrono::steady_clock::time_point arrived = {}) {
    inbound.push_back({drivers::mqtt::Event::Kind::message, std::move(topic), std::move(payload), retained, arrived});
  }
  // The broker goes away or comes back: the link says so as the broker's would.
  void set_up(bool now_up) {
    if (up == now_up) return;
    up = now_up;
    inbound.push_back({now_up ? drivers::mqtt::Event::Kind::connected : drivers::mqtt::Event::Kind::lost, "", "", false});
  }
  // Published on `topic` since message number `from`.
  std::vector<std::string> payloads(const std::string& topic, std::size_t from = 0) const {
    std::vector<std::string> out;
    for (std::size_t i = from; i < published.size(); ++i) {
      if (published[i].topic == topic) out.push_back(published[i].payload);
    }
    return out;
  }
  std::string last(const std::string& topic) const {
    const auto p = payloads(topic);
    return p.empty() ? "" : p.back();
  }
};

class FakeLink final : public drivers::mqtt::Link {
 public:
  explicit FakeLink(FakeBroker& b) : b_(b), destroyed_(b.links_destroyed) { ++b_.links_made; }
  ~FakeLink() override { ++*destroyed_; }
  FakeLink(const FakeLink&) = delete;
  FakeLink& operator=(const FakeLink&) = delete;
  void start() override {
    ++b_.links_started;
    if (b_.up) b_.inbound.push_back({drivers::mqtt::Event::Kind::connected, "", "", false});
  }
  void shutdown(std::chrono::milliseconds) override {}
  void subscribe(const std::string& filter) override { b_.subscriptions.insert(filter); }
  bool publish(const std::string& topic, const std::string& payload, int qos, bool retain) override {
    if (!b_.up) return false;
    FakeBroker::Message m{topic, payload, qos, retain};
    {
      std::lock_guard lock(b_.publish_m);
      if (b_.refuse > 0) {
        --b_.refuse;
        return false;
      }
      b_.published.push_back(m);
    }
    // A copy of the callback: one that blocks may outlive the broker (a stop that gives up on it).
    if (auto told = b_.on_publish) told(m);
    return true;
  }
  // A broker that acknowledges takes a message and says so at once; one that does not keeps it
  // in flight until the connection goes.
  std::uint64_t publish_confirmed(const std::string& topic, const std::string& payload, bool retain) override {
    if (!publish(topic, payload, 1, retain)) return 0;
    ++tickets_;
    if (b_.acknowledges) acked_.insert(tickets_);
    return tickets_;
  }
  std::optional<bool> delivered(std::uint64_t ticket) override {
    if (acked_.erase(ticket)) return true;
    if (!b_.up) return false;  // the connection went: what was in flight is lost
    return std::nullopt;
  }
  void forget(std::uint64_t ticket) override { acked_.erase(ticket); }
  std::optional<drivers::mqtt::Event> poll(std::chrono::milliseconds) override {
    if (b_.inbound.empty()) return std::nullopt;
    auto e = std::move(b_.inbound.front());
    b_.inbound.pop_front();
    return e;
  }
  bool connected() const override { return b_.up; }

 private:
  FakeBroker& b_;
  std::shared_ptr<std::atomic<int>> destroyed_;
  std::uint64_t tickets_ = 0;
  std::set<std::uint64_t> acked_;
};

// The daemon's MQTT seam (shackd::Seams::make_mqtt) on `broker`: each link the daemon builds (at
// the start, at a reload) is a FakeLink to it.
inline auto links_to(FakeBroker& broker) {
  return [&broker](const auto& /*client config*/) -> std::unique_ptr<drivers::mqtt::Link> {
    return std::make_unique<FakeLink>(broker);
  };
}

}  // namespace test
