#pragma once
// An owner's override as a message to the safety core (issue 44, item 3): read and checked where
// it arrives (a mode command on MQTT: which load, which mode, for how long), then handed to the
// core, which alone writes its state, at the top of its next decision. A command that names no
// load, or more than one, or says nothing the core can do, is refused where it arrives with the
// reason, and never reaches the core.
#include <string>
#include <utility>
#include <vector>

#include "daemon/site/loads.hpp"
#include "daemon/site/refusal.hpp"
#include "rules/state.hpp"
#include "rules/time.hpp"

namespace shackd {

struct OverrideRequest {
  std::string load_id;     // the relay id it was matched to
  std::string load_name;
  std::string state_key;   // "miner:Primary S21+"
  rules::Override value;   // the mode and, for a timed one, its end on the loop's clock
  std::string said;        // what the client sent, cleaned and cut, for the log and the event
};

// Reads a mode command addressed to `addressed` (a relay id or a load's name, folded), received
// at `now`, or why not (field `load`: no load or more than one matched; field `mode`: the payload
// says nothing the core can do). Pure.
Refused<OverrideRequest> read_override(const std::vector<LoadRef>& loads, const std::string& addressed,
                                       const std::string& payload, rules::SteadyTime now);

// The core's inbox: bounded, in order; past its size a request is refused (a flood of commands is
// the MQTT flood's bound already: this is the core's own).
class OverrideInbox {
 public:
  static constexpr std::size_t kMax = 64;
  bool push(OverrideRequest r) {
    if (q_.size() >= kMax) return false;
    q_.push_back(std::move(r));
    return true;
  }
  std::vector<OverrideRequest> take() { return std::exchange(q_, {}); }
  bool empty() const { return q_.empty(); }

 private:
  std::vector<OverrideRequest> q_;
};

}  // namespace shackd
