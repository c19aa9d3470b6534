#pragma once
// The events' outbox (issue 49): every event goes out through it, in the order made, on its
// topics (<prefix>/event and, with the uplink, <prefix>/site/<id>/event), at QoS 1. It sends at
// most `window` messages the broker has not acknowledged yet, drops a message from its front only
// once the broker acknowledged it (PUBACK), and sends again from the first unacknowledged one
// after a connection is lost: QoS 1 is "at least once" and each event carries its id, so a
// consumer drops a repeat (docs/guide.md, Many sites). Past `limit` events waiting, the oldest not
// yet sent go (those in flight stay: with a broker that never answers, the link holds the window
// and no more) and are counted (`dropped`), logged and shown. Whether the store kept them is the
// store's to say: each event's fate here is told by its `seq` (set_fate), and one that neither
// kept is counted once, as lost (daemon/events/event_fates.hpp, issue 56).
//
// Why a window: shackd sent the outage's events in one burst when the broker came back, and paho
// (the client before libmosquitto) refused a publish past 100 commands it has not yet written (MQTTASYNC_MAX_BUFFERED_MESSAGES,
// MQTTAsync_createOptions.maxBufferedMessages, paho.mqtt.c's MQTTAsync.h): 727 of 1,000 events
// were lost so (tests/daemon/outbox_broker_test.cpp), and a relay command sent in that burst
// would have been refused too.
//
// Driven from the loop once a cycle (pump(), after the relays), and in production by a thread of
// its own ("events-out") between cycles too (start_thread()), so that a thousand events take
// seconds, not minutes. It sends through the MQTT link's bulk lane (drivers/mqtt/lanes.hpp), which
// never waits and takes a message only while the link's window has room: a relay command is never
// queued behind the outbox's backlog (issue 57).
//
// push() never takes the lock the sending holds: an event made in the loop's read step (the
// broker's return, a refused command) is left in a small intake of its own, and the pump takes it
// into the queue (the limit applied there, the oldest unsent first, as if pushed one by one). The
// loop never waits for the outbox's sending before its decision.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "drivers/mqtt/lanes.hpp"
#include "drivers/thread/deadline.hpp"
#include "drivers/thread/worker.hpp"

namespace shackd {

class EventOutbox {
 public:
  struct Message {
    std::string topic, payload;
  };
  struct Stats {
    std::size_t waiting = 0;    // events not yet acknowledged on every topic
    std::size_t in_flight = 0;  // messages sent and not yet acknowledged
    std::uint64_t dropped = 0;  // events dropped past the limit (oldest first)
    std::uint64_t sent = 0;     // messages acknowledged
  };
  static constexpr std::size_t kLimit = 1000;  // events
  static constexpr std::size_t kWindow = 20;   // messages in flight
  explicit EventOutbox(std::size_t limit = kLimit, std::size_t window = kWindow) : limit_(limit), window_(window) {}
  ~EventOutbox();
  EventOutbox(const EventOutbox&) = delete;
  EventOutbox& operator=(const EventOutbox&) = delete;

  // The lane to send on (none: nothing is sent), which routes to the link in force; a ticket of a
  // link no longer in force comes back undelivered and its message goes again.
  void set_lane(drivers::mqtt::BulkLane lane);
  // Told each event's fate by its `seq`: acknowledged on every topic (true), or dropped here
  // (false). Set before the thread starts; called with one of the outbox's locks held (it must not
  // call back into the outbox).
  void set_fate(std::function<void(std::uint64_t seq, bool sent)> fate) { fate_ = std::move(fate); }
  // One event's messages, in the order made. Never waits on the broker nor on the sending.
  void push(std::vector<Message> messages, std::uint64_t seq = 0);
  // Takes what was pushed, the acknowledgements, and sends what the window allows; with the link
  // down, everything in flight waits to be sent again.
  void pump();
  // Pumps between the loop's cycles, paced by the acknowledgements (a few ms apart).
  void start_thread();
  void stop_thread() { thread_.stop(); }
  // The stop's face (issue 57): one last pump (the stop's own events, while the link is there),
  // then the thread ended. It never waits for the acknowledgements: the events unconfirmed are in
  // the database, and a wait for them (up to 1 s in 5 ms sleeps, in an earlier version of this
  // stop) only delays the stop, and the tests' under load.
  drivers::thread::Stopped stop(const drivers::thread::Deadline& deadline);
  Stats stats() const;

 private:
  struct Entry {
    Message message;
    std::uint64_t event = 0;   // entries of one event share it
    std::uint64_t seq = 0;     // the event's number in the run (EventLog), for its fate
    std::uint64_t ticket = 0;  // 0: not in flight
    bool acknowledged = false;
  };
  struct Pushed {
    std::vector<Message> messages;
    std::uint64_t seq = 0;
  };
  void pump_locked();
  void admit_locked();
  void reset_in_flight_locked();
  void run(std::stop_token token);

  std::size_t limit_, window_;
  std::function<void(std::uint64_t, bool)> fate_;
  // The intake: what push() left, taken by the pump. Its own lock, never held while sending.
  mutable std::mutex in_m_;
  std::condition_variable_any in_cv_;  // the thread's wake: a push, the loop's pump, the stop
  std::deque<Pushed> incoming_;
  bool kick_ = false;
  std::uint64_t dropped_in_ = 0;  // dropped at the intake itself (a flood past the limit in one cycle)
  // The queue and its sending.
  mutable std::mutex m_;
  drivers::mqtt::BulkLane lane_;
  std::deque<Entry> q_;
  std::uint64_t next_event_ = 0;
  std::size_t events_ = 0;
  std::size_t in_flight_ = 0;
  std::uint64_t dropped_ = 0, sent_ = 0;
  bool blocked_ = false;  // the last pump left messages the lane had no room for
  drivers::thread::Worker thread_;  // last: stopped first
};

}  // namespace shackd
