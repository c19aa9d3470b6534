#pragma once
// Each AC source against its rating as one cycle saw it (issue 59, part 5): its readings while
// fresh, its rating, the rules' verdict on an overload and whether a generator runs. One
// projection of the cycle for the two that show it, so that they cannot disagree: the metrics
// (daemon/metrics/collect.cpp: shackd_ac_source_*) and the publisher (<prefix>/ac/<id>, read by
// Home Assistant's entities, daemon/publish/ha_discovery.cpp). Fixed size, no allocation: the
// metrics build it every scrape.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "rules/profile.hpp"
#include "rules/snapshot.hpp"
#include "rules/state.hpp"

namespace shackd {

struct AcPhaseFigures {
  std::optional<double> load_w;    // what the source carries on it, by its own meter, while fresh
  std::optional<double> overload;  // the phase's own word while fresh: 0 ok, 1 warning, 2 alarm
  // The rules' verdict this cycle (the state they leave): a word, or the measured load above
  // the rating past overload_tolerance_s (rules/ac_budget.cpp). False where not known.
  bool overloaded = false;
};

struct AcSourceFigures {
  std::string_view name;  // the id under ac_sources: ("inverter" by default); into the profiles
  rules::AcSourceKind kind = rules::AcSourceKind::inverter;
  std::size_t phases = 1;           // 1 to 3
  double rating_w = 0;              // continuous, per phase; 0: not rated
  double surge_w = 0;               // a start's inrush, per phase; 0: not known, no surge test
  std::optional<double> overload;   // the whole source's word while fresh
  std::array<AcPhaseFigures, rules::kMaxAcPhases> phase{};

  bool overloaded() const;  // on any phase, as the rules judged it
  // The worst of its words that are known (whole source and phases); nullopt: none known.
  std::optional<double> worst_overload() const;
};

struct AcFigures {
  std::array<AcSourceFigures, rules::kMaxAcSources> source{};
  std::size_t count = 0;
  std::optional<bool> generator_running;  // while fresh; nullopt: not known
};

// <prefix>/ac/<id> goes out when a reader would see a change, and at least this often
// (daemon/publish/cycle_publisher.cpp): a reader with no birth message to ask (a plain subscriber,
// a dashboard) sees the figures age by at most this much. Home Assistant's entities that read it
// expire after two of these and the electrical stale limit (ha_discovery.cpp): one heartbeat lost
// at QoS 0 leaves them as they were, a dead daemon's figures go unavailable.
inline constexpr int kAcHeartbeatS = 60;

// `now` is the time the figures are for (the cycle's): a reading older than the profiles'
// electrical_stale_after, or not a number, is not shown. `next` is the state the rules left.
AcFigures ac_figures(const rules::Profiles& p, const rules::Snapshot& snap, const rules::State& next,
                     rules::SteadyTime now);

// <prefix>/ac/<id>'s payload: {"source":"inverter","kind":"inverter","phases":2,"rating_w":6000.0,
// "surge_w":null,"load_w_l1":1234.0,"load_w_l2":null,"overloaded":false,"overload_l1":false,...,"warning":0,
// "running":null}; a number is null when not known (or not rated), "running" only for a generator.
std::string ac_source_json(const AcSourceFigures& s, std::optional<bool> generator_running);

}  // namespace shackd
