#pragma once
// What each cycle adds to the cycle journal (daemon/store/cycle_journal.hpp), for `shackd replay`:
// the overrides in force as the rules were given them, then, after the relays, the snapshot's line;
// kept until the cycle's telemetry sample takes them to the recorder. A component of its own
// (issue 44): handed the core's site, state and snapshot as values, it keeps only its lines.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "daemon/site/loads.hpp"
#include "daemon/store/cycle_journal.hpp"
#include "rules/snapshot.hpp"
#include "rules/state.hpp"
#include "rules/time.hpp"

namespace shackd {

class JournalLines {
 public:
  // The Z, V and T lines of the profiles and sources in force, and the profile indexes of the
  // miners whose draw is journaled: at a start and a reload.
  void take_header(std::string header, std::vector<std::size_t> miners, std::vector<JournalAc> ac = {}) {
    header_ = std::move(header);
    miners_ = std::move(miners);
    ac_ = std::move(ac);
  }
  // The overrides in force as the rules are given them, before they decide: the state after the
  // rules may have expired one. `on`: the journal is kept (journal_days > 0).
  void overrides(const std::vector<LoadRef>& loads, const rules::State& state, rules::SteadyTime now, bool on);
  // After the relays: what the rules were given, the snapshot and every override in force; an S
  // line first after a start.
  void cycle(const rules::Snapshot& snap, std::int64_t wall_ms, bool on);
  const std::string& header() const { return header_; }
  std::string take_lines() { return std::exchange(lines_, {}); }

 private:
  std::vector<JournalOverride> overrides_;  // in force when the rules ran
  std::string lines_;                       // this cycle's
  std::string header_;
  std::vector<std::size_t> miners_;
  std::vector<JournalAc> ac_;
  bool started_ = true;
};

}  // namespace shackd
