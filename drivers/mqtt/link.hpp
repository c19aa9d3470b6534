#pragma once
// The MQTT transport as the daemon uses it: connect, subscribe, publish, and events drained on
// the owner's thread. drivers::mqtt::Client is the broker's (libmosquitto); a test gives the daemon its
// own in-process Link (tests/support/fake_link.hpp), so that relay commands, confirmations,
// outages and hostile messages run on a stepped clock with no broker.
//
// The relays' lane (issue 56): each relay's latest command stands with the link, which sends it
// first on every (re)connect, from the connection's own callback, before its subscriptions, its
// "online" and anything the daemon's other senders have: a relay OFF decided while the broker
// was away reaches it as soon as it is back, not at the loop's next cycle. What stands is only
// the decision in force (a newer one replaces it; none is queued), so nothing stale is replayed.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

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
  // When the link took a message (the process's steady clock; the epoch where nobody said): the
  // loop reads it up to a cycle later, and a relay's uptime dates its start from this.
  std::chrono::steady_clock::time_point arrived{};
};

// The largest message shackd reads (64 KiB: no relay, sensor or command message comes near it).
// Of a larger one the link keeps this and one byte, so that its owner refuses it unread, without
// copying what a neighbour on the broker may make as large as MQTT allows (256 MiB).
inline constexpr std::size_t kMaxMessageBytes = 64 * 1024;

// A message to publish: a relay's command, or a question to a relay's firmware.
struct Outgoing {
  std::string topic;
  std::string payload;
  bool operator==(const Outgoing&) const = default;
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
  // The relays' lane (lanes.hpp): to the library at once. false (and nothing queued) when
  // disconnected or refused.
  virtual bool publish(const std::string& topic, const std::string& payload, int qos, bool retain) = 0;
  // The bulk lane (lanes.hpp): what is neither a relay's command nor its question. A link that
  // queues what it sends (libmosquitto: one queue, written in order) hands the library at most a
  // small window of these at once, so that a relay command published meanwhile waits behind that
  // window only; this waits at most `wait` for room (the caller's thread: the publisher's, never
  // the loop's). false when not taken. This base sends at once.
  virtual bool publish_bulk(const std::string& topic, const std::string& payload, int qos, bool retain,
                            std::chrono::milliseconds wait) {
    (void)wait;
    return publish(topic, payload, qos, retain);
  }
  // The next event, waiting at most `timeout`.
  virtual std::optional<Event> poll(std::chrono::milliseconds timeout) = 0;
  virtual bool connected() const = 0;
  // Incoming messages dropped before the owner saw them (the link's queue was full).
  virtual long long dropped_incoming() const { return 0; }
  // A QoS 1 message of the bulk lane whose delivery the owner follows (the events' outbox,
  // daemon/events/outbox.hpp): a ticket, or 0 when it was not taken (disconnected, refused, no
  // room in the bulk lane's window: never waits). delivered(ticket)
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

  // The relays' lane: `commands` stand for `key` (a relay's id) and go out first, QoS 1 and never
  // retained, on every (re)connect; empty withdraws them. `questions` (what a relay's firmware is
  // asked at each connect: its state and uptime, how it powers up) go after the subscriptions, so
  // that the answers are heard. Thread-safe: the link sends them from its connection callback.
  void stand(const std::string& key, std::vector<Outgoing> commands);
  void ask_on_connect(const std::string& key, std::vector<Outgoing> questions);

 protected:
  struct Standing {
    std::vector<Outgoing> commands, questions;  // in key order
  };
  Standing standing() const;

 private:
  std::uint64_t base_tickets_ = 0;
  mutable std::mutex standing_m_;
  std::map<std::string, std::vector<Outgoing>> commands_, questions_;
};

}  // namespace drivers::mqtt
