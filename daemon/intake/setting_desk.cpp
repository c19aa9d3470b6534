#include "daemon/intake/setting_desk.hpp"

#include <fmt/format.h>

#include "daemon/store/profile_store.hpp"
#include "daemon/store/runtime_store.hpp"
#include "daemon/store/sqlite.hpp"
#include "drivers/text/utf8.hpp"

namespace shackd {

namespace {
// The store's refusal of `r`: its parts named before `r` moves on to the recorder's thread.
Refusal store_refusal(const SettingRequest& r, std::string rule) {
  return Refusal{.load_id = r.load_id,
                 .field = r.field,
                 .value = drivers::text::clean_utf8(r.payload, 32),
                 .rule = rule,
                 .said = rule};
}
}  // namespace

std::optional<Refusal> SettingDesk::post(DbTaskQueue* recorder, SettingRequest r) {
  if (!recorder) return store_refusal(r, "no database to keep it in");
  // Said as it is (issue 56) if the queue is full: named now, while `r` is still here.
  Refusal full = store_refusal(r, "");
  StoredProfiles next = r.next;  // what the settings after this one are checked against
  // A setting checked on top of those in flight (ahead_) carries their values in its profiles; it
  // starts no chain of its own.
  const std::uint64_t chain = ahead_ ? chain_ : chain_ + 1;
  const bool posted = recorder->post_task([box = box_, chain, r = std::move(r)](db::Db& db, RuntimeStore&) mutable {
    Outcome o{std::move(r), std::nullopt};
    bool broken = false;
    {
      std::lock_guard l(box->m);
      broken = box->broken_chain == chain;
    }
    if (broken) {
      // Its profiles hold the value the database refused before it (each write stores a profile's
      // whole row): stored, that value would come into force at the next start, refused as it was.
      o.refused = store_refusal(o.request, "not stored: a setting before it, which it was checked together with, "
                                           "was refused by the database; send it again");
    } else {
      try {
        save_profile_change(db, o.request.next, o.request.before, o.request.source, o.request.change);
      } catch (const std::exception& e) {
        o.refused = store_refusal(o.request, fmt::format("the database did not take it: {}", e.what()));
      }
    }
    std::lock_guard l(box->m);
    if (o.refused && !broken) box->broken_chain = chain;
    box->done.push_back(std::move(o));
  });
  if (!posted) {
    // The recorder's queue of tasks is full. A flood of settings fills it on a healthy card too (723
    // of a flood were refused so, and the message blamed the card); the card is named only when a
    // write under way says it is slow.
    const double writing_s = recorder->writing_s();
    full.rule = fmt::format("the recorder's queue is full ({} tasks wait for the database{})", recorder->max_tasks(),
                            writing_s >= kSlowWriteS ? fmt::format("; a write has taken {:.0f} s: the card is slow", writing_s)
                                                        : std::string());
    full.said = full.rule;
    return full;
  }
  ahead_ = std::move(next);
  chain_ = chain;
  ++in_flight_;
  return std::nullopt;
}

std::vector<SettingDesk::Outcome> SettingDesk::take() {
  std::vector<Outcome> out;
  {
    std::lock_guard l(box_->m);
    out.swap(box_->done);
  }
  in_flight_ -= std::min(in_flight_, out.size());
  if (in_flight_ == 0) ahead_.reset();  // nothing in flight: the profiles in force are the base
  return out;
}

}  // namespace shackd
