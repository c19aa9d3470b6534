#pragma once
// safety.charge_block_action: the charge limits held at 0 A while the rules block charging (a
// cold battery), and put back when the block ends (see charge_limit.hpp). A limit the config no
// longer names but the database says is still at 0 A is kept until it has been put back.
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "daemon/devices/registry.hpp"
#include "daemon/loop/charge_limit.hpp"

namespace shackd {

class ChargeBlock {
 public:
  // A note from one limit, with its label: for the daemon's log and events.
  struct Note {
    std::string label;
    ChargeLimitNote note;
  };
  using FindWriter = std::function<RegisterSwapper*(const std::string& device)>;
  // Replaces the limits: `slots` from the device registry, `rows` what the database says each
  // held when shackd last ran, `writer` the device that writes a slot (null: not polled).
  // A device renamed while its limit was held takes its kind's old row (ChargeLimitSlot::kind_row).
  void build(std::vector<devices::ChargeLimitSlot> slots, std::map<std::string, ChargeLimitRow> rows,
             const FindWriter& writer, const ChargeLimit::Save& save);
  void clear() { limits_.clear(); }
  // Once a cycle: steps every limit towards `blocked` (a retiring one towards put back). What
  // the limits say is kept for take_notes: the step is the relays' side of a cycle, the telling
  // comes after the watchdog's ping.
  void step(bool blocked);
  std::vector<Note> take_notes() { return std::exchange(notes_, {}); }
  // Lines for the log at start: the limits held at 0 A when shackd stopped.
  const std::vector<std::string>& resumed() const { return resumed_; }
  // Warnings for the log at start: limits held at 0 A that no configured device has now.
  const std::vector<std::string>& orphaned() const { return orphaned_; }

 private:
  struct Held {
    ChargeLimit limit;
    bool retiring;  // no longer configured: put back, never written 0 again
  };
  std::vector<Held> limits_;
  std::vector<std::string> resumed_;
  std::vector<std::string> orphaned_;
  std::vector<Note> notes_;  // since the last take_notes
};

}  // namespace shackd
