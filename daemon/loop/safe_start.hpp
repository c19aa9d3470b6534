#pragma once
// The start on a slow or failing card (issue 44, item 4; daemon_open.cpp): the opener's thread and
// what it read, whether the stored state has been taken, and the safe state's times until it is.
// Until then every cycle commands every relay OFF; when it arrives, the loads the safe state
// switched off are OFF since its first all-OFF (their minimum off time applies).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "daemon/loop/store_open.hpp"
#include "daemon/reloader/one_job.hpp"
#include "rules/time.hpp"

namespace shackd {

// How long start() waits for the stored state before the loop begins in the safe state: two
// intervals, 5 to 10 s. A healthy card opens, migrates nothing and reads the profiles and states in
// tens of milliseconds, so a healthy start (an upgrade, a reboot) never enters the safe state and
// never power-cycles a running miner for nothing. Two intervals is what a cycle that waits for its
// slowest device's poll already costs (poll_devices: the longest timeout + 250 ms): the relays keep
// what the last run commanded, under their own dead-man, for no longer than a slow poll would
// leave them. Past it, the card is the slow part, and the site is better OFF than undecided.
// At least 5 s: with 1 s, a restart under ASan on a loaded CI machine (interval 250 ms) took
// longer to open a healthy database and cut a miner inside its min_on_s (daemon_e2e); a Pi busy
// with an upgrade is no faster. The watchdog (WatchdogSec=30) is far from it either way.
inline std::chrono::milliseconds store_wait(std::chrono::milliseconds interval) {
  return std::clamp<std::chrono::milliseconds>(2 * interval, std::chrono::seconds(5), std::chrono::seconds(10));
}

class SafeStart {
 public:
  // The wait for the stored state (store_wait, or a test's), fixed at the start.
  void set_wait(std::chrono::milliseconds wait) { wait_ = wait; }
  std::chrono::milliseconds wait() const { return wait_; }
  JobWith<OpenedStore>& opener() { return opener_; }
  bool taken() const { return taken_; }
  void took() { taken_ = true; }
  // Set when the database could not be opened or read: the run ends with it.
  const std::optional<int>& exit_code() const { return exit_code_; }
  void failed(int code) { exit_code_ = code; }
  // The safe state entered at `now` (the start, past its wait; else the first safe cycle).
  void began(rules::SteadyTime now) {
    if (!since_) since_ = now;
  }
  // A cycle in the safe state at `now`; the seconds since it began.
  double safe_cycle(rules::SteadyTime now) {
    began(now);
    return std::chrono::duration<double>(now - *since_).count();
  }
  // Every relay commanded OFF at `now`: the first time is when the loads went OFF.
  void all_off(rules::SteadyTime now) {
    if (!off_at_) off_at_ = now;
  }
  const std::optional<rules::SteadyTime>& off_at() const { return off_at_; }
  // True once: the safe state is said the first time only.
  bool first_said() { return !std::exchange(said_, true); }
  // The stored state taken at `now`: the seconds the safe state lasted, if it was entered.
  std::optional<double> ended(rules::SteadyTime now) {
    if (!since_) return std::nullopt;
    const double s = std::chrono::duration<double>(now - *since_).count();
    since_.reset();
    return s;
  }

  // The wall time start() began at (the metrics' start time).
  void started_at(std::int64_t unix_s) { started_unix_s_ = unix_s; }
  std::int64_t started_unix_s() const { return started_unix_s_; }
  // Home Assistant's ids: the site's id as the database fixed it (site_identity), once a rename
  // keeps it; empty until the stored state is taken.
  void site_id(std::string id) { site_id_ = std::move(id); }
  const std::string& site_id() const { return site_id_; }
  // The site's id for the fleet: `configured` (site.id), else the one fixed in the database.
  const std::string& fleet_site_id(const std::string& configured) const {
    return configured.empty() ? site_id_ : configured;
  }

 private:
  std::chrono::milliseconds wait_{0};
  std::int64_t started_unix_s_ = 0;
  std::string site_id_;
  bool taken_ = false;
  std::optional<int> exit_code_;
  std::optional<rules::SteadyTime> since_;   // the loop ran in the safe state from then
  std::optional<rules::SteadyTime> off_at_;  // the first cycle that commanded every relay OFF
  bool said_ = false;
  JobWith<OpenedStore> opener_{"store-open"};  // last: joined first
};

}  // namespace shackd
