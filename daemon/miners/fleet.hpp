#pragma once
// The miners' own APIs as a component of the daemon (issue 44, item 2: "the miner API workers"):
// a worker per configured miner and everything known and said about it, owned here. The core
// asks of it, on its path and never waiting on a miner:
// - take_reports: what each worker has since the last cycle (a swap of its queue, with the devices);
// - readings: each miner's draw, hottest sensor and its limit into the snapshot;
// - relay: whether its relay is on this cycle (the soft stop, a pure step: at most a command queued).
// After the relays and the watchdog's ping, `tell` says what happened through a narrow sink (the
// history's actuations and <prefix>/load/<id>/miner) and delivers the rules' power target.
// Nothing here sees the daemon: it is handed the loads, the decision and the state it reads.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/core/events.hpp"
#include "daemon/core/loop_stats.hpp"
#include "daemon/miners/miner_link.hpp"
#include "daemon/miners/soft_stop.hpp"
#include "daemon/miners/target_watch.hpp"
#include "daemon/vocab/miner_state.hpp"
#include "daemon/site/loads.hpp"
#include "drivers/device_status.hpp"
#include "drivers/miners/miner_kind.hpp"
#include "rules/decision.hpp"
#include "rules/snapshot.hpp"

namespace shackd {

// Where the fleet's news goes (the daemon's history and MQTT): all it may say to the outside.
class MinerSink {
 public:
  virtual ~MinerSink() = default;
  // A command through a miner's API, an actuation of its load without a relay state; `target_w`:
  // the power target it took.
  virtual void actuation(const std::string& load_id, const rules::Reason& reason, const std::string& detail,
                         std::optional<double> target_w) = 0;
  // What the miner says of itself, for <prefix>/load/<id>/miner (retained): values, rendered by
  // the publisher on its own thread.
  virtual void miner_state(const std::string& load_id, MinerStateFacts facts) = 0;
};

class MinerFleet {
 public:
  // The link for a miner's config (production: make_miner_worker, a thread per miner).
  using MakeLink = std::function<std::unique_ptr<MinerLink>(const drivers::miners::MinerConfig&)>;
  // A load's rating now (its profile's power_w: a reload may change it); nullopt: none.
  using Rating = std::function<std::optional<double>(const std::string& load_id)>;

  // A worker per miner whose kind is known (the others have no API to speak to), each link's
  // numbers checked against its kind and `rating_w` (PlausibleLink); those before are gone first.
  // `make` null: make_miner_worker.
  // `read_only` (shadow mode, issue 60): each API is read, never commanded: no sleep or wake, no
  // power target; the relay is the other controller's, and the decision alone says "would".
  void start(const std::vector<drivers::miners::MinerConfig>& miners, const MakeLink& make, Rating rating_w,
             bool read_only = false);
  void clear();  // every worker gone (their threads joined)
  bool empty() const { return miners_.empty(); }
  // The config of the miner on relay `load_id`, null when it has no API here.
  const drivers::miners::MinerConfig* config(const std::string& load_id) const;

  // The read step: each worker's report since the last cycle, taken without waiting. A miner
  // whose report throws is passed to `failed` (what it said), the others taken all the same.
  void take_reports(rules::SteadyTime now, const std::function<void(const char* what)>& failed);
  // Into the snapshot (rules::Snapshot::miner_w, miner_temp_c, miner_temp_limit_c,
  // miner_powered, miner_target_ignored), for each miner load that has an API.
  void readings(const std::vector<LoadRef>& loads, rules::Snapshot& snap) const;
  // The switch step for a miner load: its relay this cycle. `d.on` for a load without an API.
  bool relay(const std::string& load_id, const rules::LoadDecision& d, rules::SteadyTime now);
  // What the miner of `load_id` says it draws, from a fresh read; nullopt without one.
  std::optional<double> draw_w(const std::string& load_id, rules::SteadyTime now) const;
  // The miners' own word among the devices' states and alarms: what each says of itself, a
  // target it does not follow, an overheat while the rules hold it off (`state`'s overheat_until).
  void add_status(drivers::DeviceStatus& out, const std::vector<LoadRef>& loads, const rules::State& state,
                  rules::SteadyTime now) const;
  // After the relays: what the miner of load `l` did and said since the last cycle (log lines,
  // `sink`), whether it follows its target, and the rules' target delivered. Nothing for a load
  // without an API.
  void tell(const LoadRef& l, const rules::LoadDecision& d, rules::SteadyTime now, MinerSink& sink);
  // The fleet's face after the relays (issue 57): tell() for each miner of `loads`, each in its own
  // guard (a failure counted in `stats` as the `events` side job's); an actuation through the API
  // goes to `events` stamped with the cycle (`snap`, `d`), what a miner says of itself to `state`
  // (the publisher's, the loop hands it in: the fleet knows no other component).
  using StateOut = std::function<void(const std::string& load_id, MinerStateFacts facts)>;
  void after_cycle(const std::vector<LoadRef>& loads, const rules::Decision& d, const rules::Snapshot& snap,
                   rules::SteadyTime now, std::int64_t wall_s, Events& events, const StateOut& state, LoopStats& stats);

 private:
  struct Side {
    Side(drivers::miners::MinerConfig c, std::unique_ptr<MinerLink> l, SoftStop s)
        : config(std::move(c)),
          link(std::move(l)),
          stop(s),
          watch(config.target ? config.target->step_w : 0,
                std::chrono::duration_cast<rules::Duration>(config.target_settle)) {}
    drivers::miners::MinerConfig config;
    std::unique_ptr<MinerLink> link;
    SoftStop stop;
    TargetWatch watch;  // whether it follows its power target (daemon/miners/target_watch.hpp)
    std::optional<drivers::miners::Telemetry> latest;  // the newest read that answered
    rules::SteadyTime latest_at{};
    std::string error;  // the last read's failure, as logged
    // When its relay last closed (the loop's clock; none while open), and whether a boot
    // without an answer since was told.
    std::optional<rules::SteadyTime> powered_at;
    bool boot_warned = false;
    // Its power target: what the rules want, what it took, and when the last was sent.
    std::optional<double> target_wanted, target_taken, target_sent_w;
    std::optional<rules::SteadyTime> target_sent_at, target_taken_at;
    rules::Reason target_reason;
    // Taken with the devices (take_reports), told after the relays (tell): finished commands, a
    // sleep's result for this cycle's stop step, news of its API.
    std::vector<MinerDone> done;
    std::optional<drivers::miners::CommandResult> sleep_done;
    bool answered_news = false;
    std::optional<std::string> unanswered;  // a read that failed, with why
    std::vector<std::string> notes;         // the stop step's, for the log
    bool running = false;                   // powered and not being stopped: its target applies
    // Its hottest sensor's limit: the owner's overheat_c, else the firmware's own "hot".
    std::optional<double> temp_limit_c() const;
    // Its newest read is recent: within three polls, 30 s at least.
    bool fresh(rules::SteadyTime now) const;
  };
  static void watch_target(const LoadRef& l, const rules::LoadDecision& d, Side& m, TargetWatchInput& in,
                           rules::SteadyTime now);
  static void deliver_target(const LoadRef& l, const rules::LoadDecision& d, Side& m, bool running, bool answering,
                             rules::SteadyTime now);
  static MinerStateFacts state_facts(const Side& m);

  std::map<std::string, Side> miners_;  // by relay id
  bool read_only_ = false;
};

// A miner load's profile power_w, when it has one: the rating its API's numbers are checked against.
std::optional<double> miner_rating_w(const StoredProfiles& profiles, const std::string& load_id);

}  // namespace shackd
