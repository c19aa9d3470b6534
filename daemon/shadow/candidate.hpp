#pragma once
// A candidate profile beside the one in force (issue 60, part 2). The config's loop.candidate names
// profile changes as `shackd replay --set` takes them; every cycle the rules decide again with the
// profiles in force plus those changes, on the cycle's own snapshot, from a state of the
// candidate's own (so its timers run as they would have had it been in force). Nothing of it is
// actuated. Where its decision for a load differs from the one in force, the comparison
// (shadow_watch.hpp, in the candidate's voice) keeps a spell: the same spells `replay --set`
// finds over the cycle journal from the same start.
//
// One face, as the shadow's: after_cycle(record) -> news. It reads no clock and does no I/O.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "daemon/core/cycle_record.hpp"
#include "daemon/shadow/shadow_watch.hpp"
#include "rules/decision.hpp"
#include "rules/state.hpp"

namespace shackd {

class Candidate {
 public:
  // Takes `sets` (already of the --set form: the config's check) from `state_now`, the state the
  // profiles in force hold before the next cycle (at the start: the restored one). Empty `sets`:
  // none runs. The profiles are built at the next cycle, on the site it is decided with.
  void arm(std::vector<std::string> sets, const rules::State& state_now);
  bool armed() const { return !sets_.empty(); }
  const std::vector<std::string>& sets() const { return sets_; }

  // This cycle's candidate decision against the one in force. A site the changes no longer apply to
  // (a reload removed the miner they name) ends the candidate, said in the news' lines.
  ShadowNews after_cycle(const CycleRecord& record, std::int64_t wall_ms);
  // Every open spell closed at `wall_ms`, the candidate ended.
  ShadowNews close_all(std::int64_t wall_ms);
  void republish() { watch_.republish(); }
  // The decision of the last cycle (tests), and what the last cycle compared (the day's figures).
  const rules::Decision& decision() const { return decision_; }
  const ShadowInputs& inputs() const { return inputs_; }

 private:
  ShadowNews decide_and_compare(const CycleRecord& record, std::int64_t wall_ms);
  std::vector<std::string> sets_;
  std::shared_ptr<const CoreSite> site_;  // the site profiles_ were built on
  StoredProfiles profiles_;
  rules::State state_;
  rules::Decision decision_;
  ShadowInputs inputs_;
  ShadowWatch watch_{ShadowVoice{.candidate = true, .sets = {}}};
};

// <prefix>/candidate, retained while a candidate runs: {"candidate":true,"set":"miners.X.start_voltage=53"}.
std::string candidate_mode_json(const std::vector<std::string>& sets);

}  // namespace shackd
