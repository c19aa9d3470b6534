#pragma once
// A miner as its firmware's API shows it, for the simulator and the in-process tests: boot time
// after power on, a ramp after a boot or a wake, idle draw asleep, LuxOS's sleep surviving a
// power cut, no API while unpowered or dead, and writes refused without the right credentials.
// Its draw is what the site model's load for its relay takes (SiteModel::loads).
#include <string>

#include "drivers/miners/miner_kind.hpp"

namespace sim {

struct MinerModel {
  const drivers::miners::MinerKind* kind = nullptr;
  double nominal_w = 3250;  // mining at full ramp
  double hashrate_ths = 95;
  double boot_s = 90;    // from power on until the API answers and hashing starts
  double ramp_s = 120;   // from a boot or a wake to full power
  double sleep_w = 15;   // asleep: LuxOS turns the power supply off; btminer stopped keeps fans
  double booting_w = 150;
  // From an accepted sleep to its idle draw, falling evenly (0: at once, as the tests assume).
  // No firmware publishes the figure; Braiins OS makes it a setting (SetQuickRamping down_s,
  // bos-plus-api 1.7.0, "used in curtailments"). bench/miner_stop takes 10 s and 0.
  double wind_down_s = 0;
  std::string password = "sim-secret";  // Whatsminer's changed super password
  bool ignores_sleep = false;  // accepts sleep and goes on hashing (a firmware fault)
  bool api_dead = false;       // powered, hashing, but its API never answers
  // Its chips: 40 °C idle, 35 more at full ramp, plus what a hot room or a blocked intake adds.
  // hot_c is its own "hot" limit as its firmware reports it (LuxOS tempctrl, Braiins cooling).
  double extra_c = 0;
  double hot_c = 90;
  double chip_c() const;

  // Its power target: its constraints (Braiins OS's tuner_constraints; LuxOS's atm PowerMin and
  // PowerLimit), and the target it runs to (0: its nominal). Whatsminer's percent is of nominal_w
  // (its rated power, reported as its power limit).
  double min_target_w = 800, max_target_w = 3600;
  double target_w = 0;
  // How fast its draw goes down to a lower target, W/s; 0: at once. Up it goes at the ramp's
  // pace. No firmware publishes either; Whatsminer's normal mode takes "several minutes"
  // (apidoc.whatsminer.com set.miner.power_percent), which percent_ramp_s stands for (both ways).
  double down_w_per_s = 0;
  double percent_ramp_s = 180;  // a Whatsminer's whole range in normal mode
  bool power_targeting = true;  // LuxOS: a model in a power-targeting mode (atm shows its range)
  bool ignores_target = false;  // takes target writes and goes on at its nominal (a firmware fault)
  // Whatsminer API v2: its API version (set_power_pct_v2 from 2.0.5), whether reads come in the
  // Msg envelope of API 2.0.5 on (else cgminer's SUMMARY lists), and power writes that apply but
  // are never answered (asic-rs PR #200).
  std::string v2_api = "2.0.5";
  bool v2_msg_reads = false;
  bool v2_silent_power_writes = false;

  bool powered = false;
  bool asleep = false;
  double since_power_s = 0;
  double ramp = 0;  // 0..1 of the way from boot to nominal (above 1: a target above its stock draw)
  double level_w = 0;  // mining draw: up at the ramp's pace towards its target, down at once
  int sleeps = 0, wakes = 0, refused = 0, target_writes = 0;
  std::string last_target_command;  // the last target write as it came (its command and value)

  void advance(double dt_s, bool relay_on);
  double draw_w() const;
  bool api_up() const { return powered && since_power_s >= boot_s && !api_dead; }
  // One request in the kind's protocol, one reply; throws std::runtime_error (no answer) while
  // the API is down.
  std::string handle(const std::string& request);

 private:
  std::string luxos(const std::string& request);
  std::string whatsminer(const std::string& request);
  std::string braiins(const std::string& request);
  std::string whatsminer_v2(const std::string& request);  // sim/miner_v2.cpp
  void fall_asleep();
  void take_target(double w, const std::string& how);
  double up_w_per_s() const;
  double down_rate_w_per_s() const;
  std::string v2_time_, v2_salt_, v2_newsalt_;  // the v2 token it handed out last
  int v2_tokens_ = 0;
  double winding_s = 0;     // left of the wind-down
  double sleep_from_w = 0;  // its draw when the sleep was accepted
  std::string session_;
};

}  // namespace sim
