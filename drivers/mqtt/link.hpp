#pragma once
// The MQTT transport as the daemon uses it: connect, subscribe, publish, and events drained on
// the owner's thread. drivers::mqtt::Client is the broker's (paho); a test gives the daemon its
// own in-process Link (tests/support/fake_link.hpp), so that relay commands, confirmations,
// outages and hostile messages run on a stepped clock with no broker.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace drivers::mqtt {

struct Event {
  // connect_failed: a connect attempt failed; payload says why in the owner's words (the
  // broker's CONNACK code: bad credentials, not authorised; or unreachable / TLS). Retried with
  // backoff by the link.
  enum class Kind { message, connected, lost, connect_failed };
  Kind kind = Kind::message;
  std::string topic;
  std::string payload;
  bool retained = false;
};

class Link {
 public:
  virtual ~Link() = default;
  // Starts connecting; reconnects by itself. Never blocks on the broker.
  virtual void start() = 0;
  // Says `offline` (retained) and disconnects, bounded by `timeout`.
  virtual void shutdown(std::chrono::milliseconds timeout) = 0;
  // Kept across reconnects.
  virtual void subscribe(const std::string& filter) = 0;
  // false (and nothing queued) when disconnected or refused.
  virtual bool publish(const std::string& topic, const std::string& payload, int qos, bool retain) = 0;
  // The next event, waiting at most `timeout`.
  virtual std::optional<Event> poll(std::chrono::milliseconds timeout) = 0;
  virtual bool connected() const = 0;
  // Incoming messages dropped before the owner saw them (the link's queue was full).
  virtual long long dropped_incoming() const { return 0; }
  // A QoS 1 message whose delivery the owner follows (the events' outbox, daemon/publish/
  // outbox.hpp): a ticket, or 0 when it was not taken (disconnected, refused). delivered(ticket)
  // is true once the broker acknowledged it (PUBACK), false when the link gave up on it, nullopt
  // while it is in flight; a ticket answered true or false is forgotten. May be called from
  // another thread than the owner's (the outbox's). This base takes a message as delivered once
  // publish() took it.
  virtual std::uint64_t publish_confirmed(const std::string& topic, const std::string& payload, bool retain) {
    if (!publish(topic, payload, 1, retain)) return 0;
    return ++base_tickets_;
  }
  virtual std::optional<bool> delivered(std::uint64_t) { return true; }
  virtual void forget(std::uint64_t) {}

 private:
  std::uint64_t base_tickets_ = 0;
};

}  // namespace drivers::mqtt
