#pragma once
// The safety core (issue 44): read -> decide -> command the relays; the caller pings the watchdog
// when decide() and apply() both say so. It owns what that path needs and nothing else: the
// devices and their readings (DevicePoll), the profiles and loads in force with their snapshot
// mapping (CoreSite), the rules' state and decision, the snapshot, the owner's overrides as
// messages (OverrideInbox) and what it counts of itself. It knows no recorder, publisher,
// metrics, reloader or database (cmake/check_layers.cmake): what it decided is read back as
// values by the side jobs after the ping, and what it is to take (a config's site, the stored
// state, an override) comes in as values.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "daemon/core/cycle_record.hpp"
#include "daemon/core/device_poll.hpp"
#include "daemon/core/overrides.hpp"
#include "daemon/site/loads.hpp"
#include "daemon/site/profiles.hpp"
#include "drivers/mqtt/relays.hpp"
#include "drivers/readings.hpp"
#include "rules/decision.hpp"
#include "rules/snapshot.hpp"
#include "rules/state.hpp"

namespace shackd {

class SafetyCore {
 public:
  // A miner's relay this cycle: the soft stop's pure step (daemon/miners/fleet.hpp), handed in.
  using MinerRelay = std::function<bool(const LoadRef&, const rules::LoadDecision&, rules::SteadyTime)>;

  // A config's site with the loads' state carried over to it (a start, a reload), the stored
  // state read at the start, a setting made over MQTT: taken whole, between two cycles.
  void take_site(CoreSite site, rules::State state);
  // The overrides that came since the last cycle, in order, written into the state: the only
  // writer of it. Returns those taken (a load gone with a reload is skipped), to be told.
  std::vector<OverrideRequest> take_overrides();
  // What the relays said of their power since the last cycle (drivers/mqtt/relays.hpp): each load
  // behind a relay that lost its power is OFF since then (rules::lose_power), one that was OFF
  // already too (its minimum off time counted from then at the earliest). `came_on`: back ON by
  // itself, it runs until the OFF this cycle sends, so it is OFF since `now`. Returns the loads
  // taken, with the news, to be told after the ping.
  struct PowerLost {
    LoadRef load;
    drivers::mqtt::PowerNews news;
    bool was_on = false;
  };
  std::vector<PowerLost> take_power_news(std::vector<drivers::mqtt::PowerNews> news, rules::SteadyTime now);
  // The snapshot from the readings (`extend` adds what is not a reading: the miners' reports, the
  // controller's heat), then the rules, both made into this cycle's record. False: undecided
  // (counted), the relays keep what they had and the last record stays the one in force.
  bool decide(rules::SteadyTime now, std::int64_t wall_s, const std::function<void(rules::Snapshot&)>& extend);
  // The relays take the decision, each load in its own guard; false: one was not switched
  // (counted). `dry_run`: nothing commanded, the relays' resends still ticked.
  bool apply(rules::SteadyTime now, drivers::mqtt::RelayManager* relays, bool dry_run, const MinerRelay& miner_relay);
  // The safe state before the stored state is read: every relay in `ids` OFF. False: one was not.
  bool all_off(const std::set<std::string>& ids, rules::SteadyTime now, drivers::mqtt::RelayManager& relays);

  // This cycle's record, completed by `add` (what the relays, the devices and the loop said) and
  // sealed: from here on it is shared and never written again. A cycle that did not decide seals
  // a copy of the last record with its own additions (the shared one is never touched).
  CycleRecordPtr seal(const std::function<void(CycleRecord&)>& add);

  DevicePoll& devices() { return devices_; }
  const DevicePoll& devices() const { return devices_; }
  OverrideInbox& inbox() { return overrides_; }
  const CoreSite& site() const { return *site_; }
  const rules::State& state() const { return state_; }
  // The record in force's (the last decided cycle's), sealed or not yet.
  const rules::Snapshot& snapshot() const { return record_->snap; }
  const rules::Decision& decision() const { return record_->decision; }
  // What the core counts of itself, handed back as values: the loop's figures (LoopStats) are
  // the loop's, which copies these into them after each cycle's relays.
  struct Counts {
    std::uint64_t undecided = 0;   // cycles whose snapshot or rules threw: no decision, no ping
    std::uint64_t unswitched = 0;  // loads whose relay step threw (the others switched): no ping
  };
  const Counts& counts() const { return counts_; }

 private:
  DevicePoll devices_;
  std::shared_ptr<const CoreSite> site_ = std::make_shared<const CoreSite>();
  rules::State state_;  // the rules' state: the last decision's `next`, with the overrides and lost power since
  // The record in force: the snapshot, and the decision whose source indexes point into it.
  // `sealed_`: shared already, never written again.
  std::shared_ptr<CycleRecord> record_ = std::make_shared<CycleRecord>();
  bool sealed_ = false;
  OverrideInbox overrides_;
  Counts counts_;
};

}  // namespace shackd
