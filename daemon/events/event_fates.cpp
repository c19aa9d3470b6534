#include "daemon/events/event_fates.hpp"

namespace shackd {

void EventFates::made(std::uint64_t seq, bool to_store, bool to_send) {
  std::lock_guard l(m_);
  Sides s;
  if (!to_store) s.store = Fate::not_there;
  if (!to_send) s.send = Fate::not_there;
  if (s.store != Fate::open && s.send != Fate::open) {
    if (s.store == Fate::not_there && s.send == Fate::not_there) ++c_.lost;
    return;
  }
  open_[seq] = s;
  while (open_.size() > kMaxOpen) {
    open_.erase(open_.begin());
    ++c_.forgotten;
  }
}

void EventFates::settle_locked(std::map<std::uint64_t, Sides>::iterator it) {
  const Sides& s = it->second;
  if (s.store == Fate::open || s.send == Fate::open) return;
  if (s.store == Fate::not_there && s.send == Fate::not_there) ++c_.lost;
  open_.erase(it);
}

void EventFates::stored(std::uint64_t seq, bool kept) {
  std::lock_guard l(m_);
  if (!kept) ++c_.unstored;
  const auto it = open_.find(seq);
  if (it == open_.end() || it->second.store != Fate::open) return;  // untracked (seq 0), or told already
  it->second.store = kept ? Fate::there : Fate::not_there;
  settle_locked(it);
}

void EventFates::sent(std::uint64_t seq, bool out) {
  std::lock_guard l(m_);
  if (!out) ++c_.unsent;
  const auto it = open_.find(seq);
  if (it == open_.end() || it->second.send != Fate::open) return;
  it->second.send = out ? Fate::there : Fate::not_there;
  settle_locked(it);
}

EventFates::Counts EventFates::counts() const {
  std::lock_guard l(m_);
  return c_;
}

std::size_t EventFates::open() const {
  std::lock_guard l(m_);
  return open_.size();
}

}  // namespace shackd
