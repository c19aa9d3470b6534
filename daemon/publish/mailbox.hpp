#pragma once
// A mailbox of one for a state that supersedes itself (issue 44: "a full queue coalesces, the
// newest state wins"): the core puts each cycle's view, the publisher's thread takes the newest.
// A view put before the last was taken is merged into the newer one (whatever of it must not be
// lost, such as a request to send everything, goes on with it) and counted: a publisher that
// falls behind costs views, never memory, and never the core's time. Not locked: its owner's
// mutex guards it (daemon/publish/publisher.hpp), so that a test can drive it alone.
#include <cstdint>
#include <optional>
#include <utility>

namespace shackd {

template <typename T>
class LatestMailbox {
 public:
  // Keeps `v`; one not yet taken is handed to `merge(older, v)` first and counted as coalesced.
  // True when it coalesced.
  template <typename Merge>
  bool put(T v, Merge&& merge) {
    ++put_;
    bool coalesced = false;
    if (slot_) {
      merge(std::move(*slot_), v);
      ++coalesced_;
      coalesced = true;
    }
    slot_ = std::move(v);
    return coalesced;
  }
  bool put(T v) {
    return put(std::move(v), [](T&&, T&) {});
  }
  // The newest, once; nullopt when nothing came since the last take.
  std::optional<T> take() { return std::exchange(slot_, std::nullopt); }
  bool empty() const { return !slot_; }
  std::uint64_t put_count() const { return put_; }
  std::uint64_t coalesced() const { return coalesced_; }  // views replaced before anyone took them

 private:
  std::optional<T> slot_;
  std::uint64_t put_ = 0, coalesced_ = 0;
};

}  // namespace shackd
