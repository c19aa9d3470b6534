#include "daemon/publish/outbox.hpp"

#include <chrono>

namespace shackd {

EventOutbox::~EventOutbox() {
  {
    std::lock_guard l(m_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EventOutbox::set_link(drivers::mqtt::Link* link) {
  std::lock_guard l(m_);
  if (link == link_) return;
  reset_in_flight_locked();  // the old link's tickets mean nothing to the new one
  link_ = link;
}

void EventOutbox::push(std::vector<Message> messages, std::uint64_t seq) {
  if (messages.empty()) return;
  {
    std::lock_guard l(m_);
    const std::uint64_t event = ++next_event_;
    for (auto& m : messages) q_.push_back({std::move(m), event, seq, 0, false});
    ++events_;
    while (events_ > limit_) {
      // The oldest event not yet sent goes: those in flight stay until the broker answers or the
      // connection goes, so that what paho holds for an unanswering broker stays the window.
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
  cv_.notify_all();
}

void EventOutbox::pump() {
  bool busy = false;
  {
    std::lock_guard l(m_);
    pump_locked();
    busy = in_flight_ > 0;
  }
  if (busy) cv_.notify_all();  // the thread takes the acknowledgements from here on
}

void EventOutbox::reset_in_flight_locked() {
  // Everything from the first unacknowledged message on is sent again, in order: a repeat is
  // dropped by the consumer (the event's id), a message out of turn would not be.
  bool behind = false;
  for (auto& e : q_) {
    if (!e.acknowledged || e.ticket) behind = true;
    if (!behind) continue;
    if (e.ticket && link_) link_->forget(e.ticket);
    e.ticket = 0;
    e.acknowledged = false;
  }
  in_flight_ = 0;
}

void EventOutbox::pump_locked() {
  if (!link_) return;
  // Acknowledgements first, the link up or not: a PUBACK that came before the connection went
  // is a delivery, not a message to send again.
  bool failed = false;
  for (auto& e : q_) {
    if (!e.ticket) continue;
    const auto d = link_->delivered(e.ticket);
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
  if (!link_->connected()) {
    if (in_flight_ > 0) reset_in_flight_locked();
    return;
  }
  if (failed) reset_in_flight_locked();
  for (auto& e : q_) {
    if (in_flight_ >= window_) break;
    if (e.acknowledged || e.ticket) continue;
    const std::uint64_t t = link_->publish_confirmed(e.message.topic, e.message.payload, false);
    if (t == 0) break;  // not taken: tried again at the next pump
    e.ticket = t;
    ++in_flight_;
  }
}

void EventOutbox::start_thread() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void EventOutbox::run() {
  std::unique_lock l(m_);
  while (!stop_) {
    pump_locked();
    if (in_flight_ > 0) {
      // Acknowledgements are polled a few ms apart while any is awaited (paho's tokens; a timed
      // condition-variable wait does not wake under libfaketime, as drivers/mqtt/client.cpp says).
      l.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      l.lock();
      continue;
    }
    // Nothing in flight: woken by a push or the loop's pump.
    cv_.wait(l);
  }
}

EventOutbox::Stats EventOutbox::stats() const {
  std::lock_guard l(m_);
  return {events_, in_flight_, dropped_, sent_};
}

}  // namespace shackd
