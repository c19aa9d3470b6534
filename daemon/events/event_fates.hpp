#pragma once
// Each event's two fates (issue 56): kept by the store (the recorder's queue, the database) and
// sent by the outbox (acknowledged by the broker). Either may drop an event past its bound, and
// each side used to speak for the other: the outbox logged "the store has them" of events the
// store had dropped too (948 of 13,079 in a flood on a slow card were neither stored nor sent),
// and the store's count said they "went out on MQTT". Here each side says only what it did, and
// an event that neither kept is counted once, as lost, when the second of its fates is known.
//
// Thread-safe: the store's side is told on the recorder's thread (and the loop's, for what it
// holds before the recorder runs), the outbox's on its own thread and the loop's. Bounded: only
// events with a fate still open are kept (at most what the recorder's and the outbox's queues
// hold); past kMaxOpen the oldest are forgotten, and counted.
#include <cstdint>
#include <map>
#include <mutex>

namespace shackd {

class EventFates {
 public:
  struct Counts {
    std::uint64_t unstored = 0;  // events the store dropped (past its queue, refused by the schema)
    std::uint64_t unsent = 0;    // events the outbox dropped (past its limit)
    std::uint64_t lost = 0;      // events neither stored nor sent: counted once, also in the two above
    std::uint64_t forgotten = 0; // events whose fates were not followed to their end (kMaxOpen)
  };
  static constexpr std::size_t kMaxOpen = 50000;

  // Event `seq` is made: `to_store` it goes to the store, `to_send` to the outbox. A side it does
  // not go to counts as not there (an alarm of the store's own goes to MQTT only: dropped by the
  // outbox, it is lost).
  void made(std::uint64_t seq, bool to_store, bool to_send);
  // The store wrote it (`kept`) or dropped it.
  void stored(std::uint64_t seq, bool kept);
  // The broker acknowledged it on every topic (`out`), or the outbox dropped it.
  void sent(std::uint64_t seq, bool out);
  Counts counts() const;
  std::size_t open() const;

 private:
  enum class Fate : std::uint8_t { open, there, not_there };
  struct Sides {
    Fate store = Fate::open, send = Fate::open;
  };
  void settle_locked(std::map<std::uint64_t, Sides>::iterator it);

  mutable std::mutex m_;
  std::map<std::uint64_t, Sides> open_;  // by seq: the oldest first
  Counts c_;
};

}  // namespace shackd
