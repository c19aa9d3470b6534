#pragma once
// Settings from MQTT on their way to the card and into force (issue 44): the loop never waits for
// the database. A checked setting is posted to the recorder's thread, which stores it with its
// config_history record; the loop takes the outcome at the top of a later cycle and only then puts
// the setting in force (a restart must not forget a value the site ran with). Until then the
// settings in flight are the profiles the next ones are checked against (`ahead`), so that two
// sent in a row (a start voltage and a stop voltage) are checked together, as the file's would be.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "daemon/intake/mqtt_intake.hpp"
#include "daemon/site/profiles.hpp"
#include "daemon/site/refusal.hpp"
#include "daemon/store/task_queue.hpp"

namespace shackd {

class SettingDesk {
 public:
  static constexpr double kSlowWriteS = 5;  // as the STATUS line's "store slow" (loop_status)
  struct Outcome {
    SettingRequest request;
    std::optional<Refusal> refused;  // none: stored
  };
  // Posts the store of `r` to `recorder`'s thread (never waits): nothing when posted, or why it
  // cannot take it: no database, or the recorder's task queue is full (a flood of settings, or a
  // card far behind: a write under way for kSlowWriteS or more names the card).
  std::optional<Refusal> post(DbTaskQueue* recorder, SettingRequest r);
  // The settings stored, or refused by the database, since the last take, in the order posted.
  std::vector<Outcome> take();
  // The profiles a new setting is checked against: those in force with the settings in flight.
  const StoredProfiles& ahead(const StoredProfiles& in_force) const { return ahead_ ? *ahead_ : in_force; }
  // A reload replaced the profiles: what is in flight is checked again as it is taken.
  void forget_ahead() { ahead_.reset(); }

 private:
  struct Mailbox {
    std::mutex m;
    std::vector<Outcome> done;
    // The chain whose setting the database refused: the settings after it in that chain were
    // checked with its value in force and hold it in their profiles, so none of them is stored.
    std::uint64_t broken_chain = 0;
  };
  std::shared_ptr<Mailbox> box_ = std::make_shared<Mailbox>();  // shared with the recorder's tasks
  std::optional<StoredProfiles> ahead_;
  // Settings posted while others are in flight, each checked on top of those before it, are one
  // chain; a setting checked against the profiles in force (nothing ahead) starts the next.
  std::uint64_t chain_ = 0;
  std::size_t in_flight_ = 0;
};

}  // namespace shackd
