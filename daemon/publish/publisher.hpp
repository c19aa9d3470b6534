#pragma once
// The publisher (issue 44, item 2): a side job that owns what goes out on MQTT each cycle (state,
// decision, reasons, the loop's figures, health, energy, Home Assistant's discovery, the
// controller's health, the uplink's state) and what need not go again (CyclePublisher), and
// renders and sends it on a thread of its own. The core hands it each cycle as values
// (CycleFacts) through a mailbox of one where the newest cycle wins (LatestMailbox): a publisher
// that falls behind (a link that blocks, a machine that is busy) costs views, counted, never the
// core's time, a relay command or memory. Other messages (a miner's own word, handed over as
// values and rendered here, the controller's leftovers, a test's events) go in order through a
// bounded queue; past its limit the oldest go, counted. It sends through the MQTT link's bulk
// lane (drivers/mqtt/lanes.hpp: paced by the link, so that a relay command never waits behind
// Home Assistant's discovery; issue 57), which holds this thread while the link's window is full
// (the views coalesce meanwhile) and refuses a message that finds no room within kBulkWait. What
// the lane refuses is counted, here only (<prefix>/loop's publishes_refused), and a retained one is
// not taken as sent: it goes again with the next hand-over (CyclePublisher keeps what it owes; the
// queue keeps the newest of each topic). Every loss is shown: <prefix>/loop, status, the metrics,
// and an alarm when losses go on for a minute (watch()).
//
// Its own thread rather than the events outbox's (daemon/events/outbox.hpp): the outbox paces
// confirmed QoS 1 events by their acknowledgements and keeps every one in order, while this
// sends superseded QoS 0/1 states where only the newest matters; one stalled in a publish would
// otherwise hold the other's queue.
//
// Without a thread (a test's seams, daemon/loop/seams.hpp) it publishes at once on the caller's
// thread, in the order handed over, so that a stepped-clock test reads what a cycle sent when the
// cycle returns.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "daemon/vocab/cycle_facts.hpp"
#include "daemon/vocab/miner_state.hpp"
#include "drivers/mqtt/lanes.hpp"
#include "drivers/thread/deadline.hpp"
#include "drivers/thread/worker.hpp"
#include "rules/time.hpp"

namespace shackd {

struct PublisherStats {
  std::uint64_t views = 0;             // cycle views handed over
  std::uint64_t published = 0;         // ... rendered and sent
  std::uint64_t coalesced = 0;         // ... replaced by a newer one before the thread took them
  std::uint64_t messages_dropped = 0;  // other messages dropped past the queue's limit, oldest first
  std::uint64_t refused = 0;           // publishes the link refused (its buffer full): a retained one goes again
  double busy_s = 0;                   // a hand-over being sent for this long; 0: none
  std::uint64_t lost() const { return coalesced + messages_dropped + refused; }
};

// What the publisher has to say, for the core to tell (watch()): its losses as an alarm, raised
// when they have gone on for kAlarmAfter and ended when none came for as long; a rendering that
// threw (a side job's failure).
struct PublisherNote {
  enum class Kind { alarm, alarm_end, failure };
  Kind kind = Kind::failure;
  std::string text;
};

class Publisher {
 public:
  static constexpr std::size_t kMessageLimit = 1000;
  static constexpr std::chrono::seconds kAlarmAfter{60};
  // How long one message waits for room in the bulk lane's window before it is refused: a broker
  // that has acknowledged nothing for this long is stalled (its keepalive ends it later).
  static constexpr std::chrono::milliseconds kBulkWait{500};

  explicit Publisher(std::size_t message_limit = kMessageLimit);
  ~Publisher();  // stop(2 s)
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // The lane to send on (none: nothing is sent), which routes to the link in force.
  void set_lane(drivers::mqtt::BulkLane lane);
  void start_thread();

  // The core's side: never waits on a publish.
  void post(CycleFacts&& v);
  void send(std::string topic, std::string payload, bool retain, int qos = 1);
  // A miner's own word (<prefix>/load/<id>/miner, retained), in order with the other messages;
  // its JSON rendered on the publisher's thread.
  void send_miner(std::string topic, MinerStateFacts facts);
  // The next view goes whole (a connect, Home Assistant's restart); take_everything() says
  // whether the next is to, and clears the request (the core adds Home Assistant's discovery).
  void send_everything();
  bool take_everything();
  // After a reload: everything again, as if for the first time.
  void forget();
  // Load `id`'s settings again with the next view (a refused set: Home Assistant shows the value
  // in force again).
  void forget_settings(const std::string& id);

  PublisherStats stats() const;
  // On the loop's clock, once a cycle: an alarm when the losses went on for kAlarmAfter, its end
  // when none came for as long.
  std::vector<PublisherNote> watch(rules::SteadyTime now);
  // Waits, at most `bound`, until everything handed over so far is sent: for tests. False at the bound.
  bool settle(std::chrono::milliseconds bound);
  // Ends the thread, waiting at most `bound` for a publish under way; what waits is not sent
  // (superseded states; the will says offline). False when it had to leave the thread behind.
  bool stop(std::chrono::milliseconds bound);
  // The stop's face (issue 57): stop() within what is left of `deadline`, capped by kStopBound.
  static constexpr std::chrono::milliseconds kStopBound{2000};
  drivers::thread::Stopped stop(const drivers::thread::Deadline& deadline);

 private:
  struct Shared;
  void queue(std::string topic, std::variant<std::string, MinerStateFacts> body, bool retain, int qos);
  std::shared_ptr<Shared> s_;
  drivers::thread::Worker thread_;  // "publisher": it holds s_ too, so a stop that gives up leaves it whole
  bool stopped_ = false;
  // watch()'s, the loop's own.
  std::uint64_t lost_seen_ = 0, lost_at_start_ = 0;
  std::optional<rules::SteadyTime> losing_since_, last_loss_at_;
  bool alarmed_ = false;
};

}  // namespace shackd
