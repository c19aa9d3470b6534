#pragma once
// The safety loop (issue 57 item 1 and 4): the safety core and what the safety path itself owns:
// the loop's figures (LoopStats), each device's health as told (DeviceLog), the site's alarms
// (AlarmWatch), the charge block's 0 A limits, the controller's own heat (HostWatch: a hot Pi sheds
// loads, the rules' `controller_overheat`), and the systemd line the watchdog is pinged on.
// One step() is decide -> switch -> the charge block's step -> ping; what the cycle then has to
// say of it (the polls, the overrides, a relay's lost power, the alarms, the switches, the
// relays' alarms) goes to the history through an Events sink, each part in its own guard.
// It is in loop/, not core/: it owns the miner fleet (the miners' APIs: their readings are rules'
// inputs, and their API step goes with their relays') and the host watch.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/core/events.hpp"
#include "daemon/core/safety_core.hpp"
#include "daemon/core/side_guard.hpp"
#include "daemon/host/host_watch.hpp"
#include "daemon/loop/alarm_watch.hpp"
#include "daemon/loop/charge_block.hpp"
#include "daemon/loop/device_log.hpp"
#include "daemon/miners/fleet.hpp"
#include "daemon/store/charge_limit_rows.hpp"
#include "daemon/system/clock.hpp"
#include "daemon/system/systemd_line.hpp"
#include "drivers/mqtt/relays.hpp"

namespace shackd {

class StoreSide;

class SafetyLoop {
 public:
  SafetyLoop(LoopClock& clock, SystemdLine::Seam notify) : clock_(clock), systemd_(std::move(notify)) {}

  LoopClock& clock() const { return clock_; }
  SafetyCore& core() { return core_; }
  const SafetyCore& core() const { return core_; }
  // What the core holds now: the last decision and its snapshot, the site in force.
  const rules::Decision& decision() const { return core_.decision(); }
  const rules::Snapshot& snapshot() const { return core_.snapshot(); }
  const std::vector<LoadRef>& loads() const { return core_.site().loads; }
  const StoredProfiles& profiles() const { return core_.site().profiles; }
  LoopStats& stats() { return stats_; }
  const LoopStats& stats() const { return stats_; }
  DeviceLog& device_log() { return device_log_; }
  const DeviceLog& device_log() const { return device_log_; }
  AlarmWatch& alarms() { return alarms_; }
  const AlarmWatch& alarms() const { return alarms_; }
  ChargeBlock& charge_block() { return charge_block_; }
  HostWatch& host() { return host_; }
  const HostWatch& host() const { return host_; }
  SystemdLine& systemd() { return systemd_; }
  // The miners' APIs, their workers and what is known of them (daemon/miners/fleet.hpp).
  MinerFleet& miners() { return miners_; }
  const MinerFleet& miners() const { return miners_; }

  // The cycle's time after its poll, as the rules, the journal and the records take it: the steady
  // clock in whole milliseconds, and the wall clock's same instant.
  struct Times {
    rules::SteadyTime now;
    std::int64_t wall = 0;
    std::int64_t wall_ms = 0;  // the cycle journal's and the second opinions' stamp
  };
  Times times() const;

  // One side job in its own guard (daemon/core/side_guard.hpp): counted in the loop's figures.
  template <typename F>
  void guarded(SideJob job, F&& f) noexcept {
    shackd::guarded(stats_, job, std::forward<F>(f));
  }

  // What the step needs of the rest of the site: how the controller's heat is sensed, the relays,
  // and whether anything may be commanded.
  struct Parts {
    const HostConfig& host;
    drivers::mqtt::RelayManager* relays;
    bool dry_run = false;
    bool once = false;  // `once` switches nothing and pings nothing: it decides and prints
  };
  struct Step {
    bool decided = false;
    bool switched = false;  // every relay step ran (or `once`)
  };
  // The controller's heat is sensed (not `once`), the rules decide, the relays are commanded
  // (first: nothing is said before them), the charge block steps its limits, and only a cycle that
  // decided and switched pings the watchdog.
  Step step(rules::SteadyTime now, std::int64_t wall_s, const Parts& p);

  // This cycle's record, completed with what the relays, the miners, the devices and the loop said,
  // and sealed (daemon/core/cycle_record.hpp): the one value every component after it reads.
  CycleRecordPtr seal(const drivers::mqtt::RelayManager* relays, std::size_t store_queued, rules::SteadyTime now);

  // What a cycle has to say after the relays, in this order, each part in its own guard.
  struct Told {
    const std::vector<OverrideRequest>& overrides;        // taken before the rules
    const std::vector<SafetyCore::PowerLost>& lost;        // the loads whose relay lost its power
    bool decided = false;
    drivers::mqtt::RelayManager* relays;
    const Config& config;
    bool once = false;
  };
  void tell(const Told& t, rules::SteadyTime now, std::int64_t wall_s, Events& events);
  // What the poll found: dropped readings, a device that stopped or started answering.
  void tell_polls(Events& events);
  // What the relays said since the last cycle: a line for those that said the same, an event each.
  void tell_relay_alarms(drivers::mqtt::RelayManager* relays, Events& events);

  // The charge limits a cold battery holds at 0 A (safety.charge_block_action), built when the
  // stored state is taken and by a reload that changes the devices; each row as it changes goes
  // to `storage`'s recorder.
  void build_charge_limits(const Config& config, bool once, std::map<std::string, ChargeLimitRow> rows,
                           StoreSide& storage);
  // The core's counts into the loop's figures.
  void take_core_counts();
  // The STATUS= line: the battery, the loads on, the devices, `mqtt`, the mode, the loop's figures.
  std::string status_line(const std::string& mqtt, bool safe_state, const Config& config) const;
  // The end of every cycle: the log's losses counted, then the STATUS= line made and sent (and
  // said in the log after the first cycle that decided and switched, `alive`).
  void said(const std::string& mqtt, bool safe_state, const Config& config, bool alive);

 private:
  void tell_switches(bool shadow, std::int64_t wall_s, Events& events);
  void tell_power_lost(const std::vector<SafetyCore::PowerLost>& lost, bool shadow, std::int64_t wall_s, Events& events);
  void tell_overrides(const std::vector<OverrideRequest>& taken, Events& events);
  void tell_alarms(rules::SteadyTime now, std::int64_t wall_s, Events& events);
  void tell_charge_block(std::int64_t wall_s, Events& events);

  LoopClock& clock_;
  SystemdLine systemd_;  // sd_notify, or the test's seam; READY=1 with the first ping
  // The safety core (daemon/core/safety_core.hpp): the devices, the site in force, the rules'
  // state and decision, the cycle's record, the overrides' inbox.
  SafetyCore core_;
  // The loop's figures (daemon/core/loop_stats.hpp): the cadence, the core's counts copied after
  // each cycle's relays, and what each side job lost or failed, as it is told.
  LoopStats stats_;
  DeviceLog device_log_;  // each device's health as last told, what its polls dropped or refused
  AlarmWatch alarms_;  // the rules', the devices' own and the charge block's alarms, as last told
  ChargeBlock charge_block_;  // the charge limits held at 0 A while charging is blocked, and what they said
  HostWatch host_;  // the controller's own health, sensed with config.host on its own interval
  bool told_first_ = false;  // the first decision said in the log
  // Last: destroyed first, its workers gone before the site their ratings are read from.
  MinerFleet miners_;
};

}  // namespace shackd
