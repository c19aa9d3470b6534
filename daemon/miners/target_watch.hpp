#pragma once
// Whether a miner follows the power target it takes. Field reports say some firmwares accept a
// power write and ignore it, or never answer it (asic-rs PR #200: Whatsminer v2 power writes that
// never reply, "Power Limit" reading 0), and that a percent write is to be judged by the measured
// power, not by what the miner says its limit is. So a target is judged by what the miner says it
// draws: once it reports mining after it took a target, its draw must come within a step of that
// target within its kind's settle time (MinerKind::target_settle_s, or the owner's
// `target.settle_s`). One that does not, that refuses target writes three times running, or whose
// model does no power targeting at all, is reported once and runs on and off as a miner without a
// target for as long as shackd runs (the rules read it from Snapshot::miner_target_ignored).
// Pure: the loop's clock and the miner's reports in, a verdict out.
#include <optional>
#include <string>

#include "drivers/miners/miner_api.hpp"
#include "rules/time.hpp"

namespace shackd {

struct TargetWatchInput {
  bool following = false;  // its relay on, no stop under way, the rules want a target
  std::optional<double> taken_w;          // the last target it accepted
  std::optional<rules::SteadyTime> taken_at;
  std::optional<drivers::miners::Telemetry> latest;  // its newest read that answered
  rules::SteadyTime latest_at{};
  std::optional<drivers::miners::CommandResult> write;  // a target write's result, this cycle
};

class TargetWatch {
 public:
  TargetWatch(double step_w, rules::Duration settle) : step_w_(step_w), settle_(settle) {}
  // The words to report, on the cycle it finds the target not followed; nothing otherwise.
  std::optional<std::string> step(const TargetWatchInput& in, rules::SteadyTime now);
  bool ignored() const { return ignored_; }
  const std::string& why() const { return why_; }

 private:
  std::optional<std::string> trip(std::string why);
  double step_w_;
  rules::Duration settle_;
  bool ignored_ = false;
  std::string why_;
  int refused_in_a_row_ = 0;
  std::optional<rules::SteadyTime> off_since_;  // its draw not within a step of its target since
  rules::SteadyTime judged_at_{};               // the read last judged
};

}  // namespace shackd
