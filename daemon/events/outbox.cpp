#include "daemon/events/outbox.hpp"

#include <chrono>
#include <thread>

namespace shackd {

EventOutbox::~EventOutbox() { thread_.stop(); }

drivers::thread::Stopped EventOutbox::stop(const drivers::thread::Deadline& deadline) {
  const auto began = deadline.now();
  pump();
  stop_thread();
  return drivers::thread::Stopped::end("events outbox", deadline, began, true);
}

void EventOutbox::set_lane(drivers::mqtt::BulkLane lane) {
  std::lock_guard l(m_);
  reset_in_flight_locked();  // a ticket means nothing on another lane
  lane_ = std::move(lane);
}

void EventOutbox::push(std::vector<Message> messages, std::uint64_t seq) {
  if (messages.empty()) return;
  {
    std::lock_guard l(in_m_);
    incoming_.push_back({std::move(messages), seq});
    // A backstop for a flood within one cycle (the pump takes the intake at least once a cycle):
    // the intake alone never holds more than the limit.
    while (incoming_.size() > limit_) {
      if (fate_) fate_(incoming_.front().seq, false);
      incoming_.pop_front();
      ++dropped_in_;
    }
  }
  in_cv_.notify_all();
}

void EventOutbox::pump() {
  bool busy = false;
  {
    std::lock_guard l(m_);
    pump_locked();
    busy = in_flight_ > 0 || blocked_;
  }
  // The thread takes the acknowledgements (and what the lane had no room for) from here on. With
  // nothing awaited it would find nothing to do: it is not woken (issue 57: it was, every cycle,
  // a wake-up for nothing; what push() leaves wakes it by itself).
  if (!busy) return;
  {
    std::lock_guard l(in_m_);
    kick_ = true;
  }
  in_cv_.notify_all();
}

// What push() left, into the queue in order; past the limit, the oldest event not yet sent goes
// (those in flight stay until the broker answers or the connection goes, so that what the link
// holds for an unanswering broker stays the window).
void EventOutbox::admit_locked() {
  std::deque<Pushed> taken;
  {
    std::lock_guard l(in_m_);
    taken.swap(incoming_);
  }
  for (auto& p : taken) {
    const std::uint64_t event = ++next_event_;
    for (auto& m : p.messages) q_.push_back({std::move(m), event, p.seq, 0, false});
    ++events_;
    while (events_ > limit_) {
      bool erased = false;
      auto first = q_.begin();
      while (first != q_.end()) {
        auto last = first;
        bool unsent = true;
        while (last != q_.end() && last->event == first->event) {
          unsent = unsent && !last->ticket && !last->acknowledged;
          ++last;
        }
        if (unsent) {
          if (fate_) fate_(first->seq, false);
          q_.erase(first, last);
          erased = true;
          break;
        }
        first = last;
      }
      if (!erased) break;  // all in flight: the window is smaller than the limit
      --events_;
      ++dropped_;
    }
  }
}

void EventOutbox::reset_in_flight_locked() {
  // Everything from the first unacknowledged message on is sent again, in order: a repeat is
  // dropped by the consumer (the event's id), a message out of turn would not be.
  bool behind = false;
  for (auto& e : q_) {
    if (!e.acknowledged || e.ticket) behind = true;
    if (!behind) continue;
    if (e.ticket) lane_.forget(e.ticket);
    e.ticket = 0;
    e.acknowledged = false;
  }
  in_flight_ = 0;
}

void EventOutbox::pump_locked() {
  admit_locked();
  blocked_ = false;
  if (!lane_) return;
  // Acknowledgements first, the link up or not: a PUBACK that came before the connection went
  // is a delivery, not a message to send again.
  bool failed = false;
  for (auto& e : q_) {
    if (!e.ticket) continue;
    const auto d = lane_.delivered(e.ticket);
    if (!d) continue;
    e.ticket = 0;
    --in_flight_;
    if (*d) {
      e.acknowledged = true;
      ++sent_;
    } else {
      failed = true;
    }
  }
  while (!q_.empty() && q_.front().acknowledged) {
    const std::uint64_t event = q_.front().event, seq = q_.front().seq;
    q_.pop_front();
    if (q_.empty() || q_.front().event != event) {
      --events_;
      if (fate_) fate_(seq, true);  // its last message acknowledged: the event is out
    }
  }
  if (!lane_.connected()) {
    if (in_flight_ > 0) reset_in_flight_locked();
    return;
  }
  if (failed) reset_in_flight_locked();
  for (auto& e : q_) {
    if (in_flight_ >= window_) break;
    if (e.acknowledged || e.ticket) continue;
    const std::uint64_t t = lane_.publish_confirmed(e.message.topic, e.message.payload, false);
    if (t == 0) {  // not taken (the lane's window full, a refusal): tried again at the next pump
      blocked_ = true;
      break;
    }
    e.ticket = t;
    ++in_flight_;
  }
}

void EventOutbox::start_thread() {
  if (thread_.started()) return;
  thread_ = drivers::thread::Worker("events-out", [this](std::stop_token token) { run(std::move(token)); });
}

void EventOutbox::run(std::stop_token token) {
  while (!token.stop_requested()) {
    bool busy = false;
    {
      std::lock_guard l(m_);
      pump_locked();
      busy = in_flight_ > 0 || blocked_;
    }
    if (busy) {
      // Acknowledgements (and room in the lane's window) are polled a few ms apart while any is
      // awaited (a timed condition-variable wait does not wake under libfaketime, as
      // drivers/mqtt/client.cpp says).
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    // Nothing in flight: woken by a push, the loop's pump or the stop.
    std::unique_lock l(in_m_);
    in_cv_.wait(l, token, [&] { return !incoming_.empty() || kick_; });
    kick_ = false;
  }
}

EventOutbox::Stats EventOutbox::stats() const {
  std::size_t incoming = 0;
  std::uint64_t dropped_in = 0;
  {
    std::lock_guard l(in_m_);
    incoming = incoming_.size();
    dropped_in = dropped_in_;
  }
  std::lock_guard l(m_);
  return {events_ + incoming, in_flight_, dropped_ + dropped_in, sent_};
}

}  // namespace shackd
