#include "daemon/shadow/candidate.hpp"

#include <fmt/format.h>

#include <utility>

#include "daemon/config/profiles_yaml.hpp"
#include "daemon/site/loads.hpp"
#include "daemon/text/json_out.hpp"
#include "rules/decide.hpp"
#include "rules/reason.hpp"

namespace shackd {

namespace {

// Whether the rules' state of one site fits the other's: the same loads in the same places.
bool same_layout(const CoreSite& a, const CoreSite& b) {
  if (a.profiles.rules.miners.size() != b.profiles.rules.miners.size() ||
      a.profiles.rules.zones.size() != b.profiles.rules.zones.size() || a.loads.size() != b.loads.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.loads.size(); ++i) {
    if (a.loads[i].state_key != b.loads[i].state_key || a.loads[i].index != b.loads[i].index) return false;
  }
  return true;
}

}  // namespace

void Candidate::arm(std::vector<std::string> sets, const rules::State& state_now) {
  sets_ = std::move(sets);
  site_.reset();  // built at the next cycle
  state_ = state_now;
  decision_ = {};
  watch_ = ShadowWatch(ShadowVoice{.candidate = true, .sets = fmt::format("{}", fmt::join(sets_, ", "))});
}

ShadowNews Candidate::after_cycle(const CycleRecord& record, std::int64_t wall_ms) {
  if (sets_.empty() || !record.site) return {};
  std::string note;
  if (record.site != site_) {
    // A new site in force (the start, a reload, a setting over MQTT): the candidate is that site with
    // the same changes, as `replay --set` applies them to today's profiles.
    StoredProfiles changed = record.profiles();
    std::vector<ProfileSet> parsed;
    std::string error;
    for (const auto& s : sets_) {
      if (auto p = parse_profile_set(s, error)) parsed.push_back(std::move(*p));
    }
    std::vector<std::string> errors = error.empty() ? apply_profile_sets(changed, parsed, "loop.candidate")
                                                    : std::vector<std::string>{"loop.candidate: " + error};
    if (!errors.empty()) {
      ShadowNews news = close_all(wall_ms);
      for (const auto& e : errors) news.warnings.push_back("candidate: not decided any more: " + e);
      return news;
    }
    // Other loads (a reload added, removed or reordered profiles): the rules' state is laid out by
    // them, so the candidate starts again from the state in force, which the core laid out anew.
    if (site_ && !same_layout(*site_, *record.site)) {
      state_ = record.state();
      note = "candidate: the loads changed: it goes on from the state in force now";
    }
    profiles_ = std::move(changed);
    site_ = record.site;
  }
  ShadowNews news = decide_and_compare(record, wall_ms);
  if (!note.empty()) news.lines.insert(news.lines.begin(), std::move(note));
  return news;
}

ShadowNews Candidate::decide_and_compare(const CycleRecord& record, std::int64_t wall_ms) {
  // The owner's overrides hold for the candidate as for the profiles in force (replay does the same
  // from the journal's overrides).
  for (const auto& l : record.loads()) state_of(state_, l).override_ = state_of(record.state(), l).override_;
  rules::decide(record.snap, profiles_.rules, state_, decision_);
  state_ = decision_.next;
  ShadowInputs in;
  in.wall_ms = wall_ms;
  for (const auto& l : record.loads()) {
    in.loads.push_back(shadow_load(l, decision_for(decision_, l), decision_for(record.decision, l).on));
  }
  inputs_ = std::move(in);
  return watch_.after_cycle(inputs_);
}

ShadowNews Candidate::close_all(std::int64_t wall_ms) {
  ShadowNews news = watch_.close_all(wall_ms);
  sets_.clear();
  site_.reset();
  return news;
}

std::string candidate_mode_json(const std::vector<std::string>& sets) {
  std::string out = "{";
  json_out::key(out, "candidate");
  out += sets.empty() ? "false" : "true";
  json_out::key(out, "set");
  json_out::string(out, fmt::format("{}", fmt::join(sets, ", ")));
  out += '}';
  return out;
}

}  // namespace shackd
