#pragma once
// API first, relay after. A miner with a working API is put to sleep before its power is cut:
// hard cuts wear out power supplies (hass-miner#170: three APW PSUs in two years switched by a
// contactor) and lose the shares in flight. The relay stays the last word:
// - a stop sends sleep and keeps the relay on until the miner reports a draw below its idle
//   level, or until stop_timeout; a refused sleep, or an API that does not answer, cuts at once;
// - a safety stop (rules::LoadDecision::safety_stop: shutdown, restart lockout, critical low, the
//   emergency stop voltage, stale inputs, overheat) gives the API one cycle: sleep is sent, and
//   the relay is cut on the next cycle whatever the answer. That holds on every cycle the safety
//   reason does, and for a safety reason that comes while an ordinary stop waits for the miner's
//   draw to fall (cut at once: its sleep went out cycles ago);
// - a start powers the relay and wakes a miner that reports itself asleep (LuxOS keeps its sleep
//   across a power cut), once a minute at most, until it mines.
// Pure: the loop's clock and the miner's reports in, the relay's state and a command out.
#include <optional>
#include <string>

#include "daemon/miners/miner_link.hpp"
#include "rules/time.hpp"

namespace shackd {

struct SoftStopInput {
  bool want_on = false;
  bool urgent = false;    // a safety stop (rules::LoadDecision::safety_stop), this cycle
  bool answering = false; // the API answered a read lately
  std::optional<drivers::miners::Telemetry> latest;  // the newest read that answered
  rules::SteadyTime latest_at{};                     // when the loop took it
  std::optional<drivers::miners::CommandResult> sleep_done;  // a sleep's result, this cycle
  // Set: this stop cuts the relay within this long whatever the miner draws (shorter than its
  // stop_timeout): a miner stopped because the battery paid while its target came down.
  std::optional<rules::Duration> cut_within;
};

struct SoftStopStep {
  bool relay_on = false;
  std::optional<MinerCommand> send;
  std::string note;  // for the log, when something happened: "asleep at 14 W: relay cut"
};

class SoftStop {
 public:
  SoftStop(double idle_w, rules::Duration stop_timeout) : idle_w_(idle_w), stop_timeout_(stop_timeout) {}
  SoftStopStep step(const SoftStopInput& in, rules::SteadyTime now);
  bool stopping() const { return phase_ == Phase::stopping; }

 private:
  enum class Phase { off, on, stopping };
  double idle_w_;
  rules::Duration stop_timeout_;
  Phase phase_ = Phase::off;
  rules::SteadyTime since_{};
  std::optional<rules::SteadyTime> sleep_accepted_at_;
  bool urgent_ = false;                         // the stop began as a safety stop
  std::optional<rules::Duration> cut_within_;   // the stop began with this bound
  std::optional<rules::SteadyTime> last_wake_;
};

}  // namespace shackd
