#include "daemon/report/shadow_tally.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "daemon/site/loads.hpp"

namespace shackd::report {

namespace {

// Minutes as people read them: a short spell keeps its tenths.
std::string minutes_text(double m) { return m < 10 ? fmt::format("{:.1f} min", m) : fmt::format("{:.0f} min", m); }

// A miner's stop voltage as the rules use it (its mode and margins); none for fans and heaters,
// whose stops are the zone's temperatures and the site's thresholds.
std::optional<double> stop_v_of(const StoredProfiles& p, const LoadRef& l) {
  if (l.kind != LoadRef::Kind::miner || l.index >= p.rules.miners.size()) return std::nullopt;
  return rules::effective_thresholds(p.rules.miners[l.index], p.rules.site).stop_v;
}

// Adds the part of minute `m` that [from, to) covers to `side`.
void cost_minute(ShadowSide& side, const Minute& m, std::int64_t from, std::int64_t to, double rated_w, bool relay_on,
                 std::optional<double> stop_v) {
  const std::int64_t a = std::max(from, m.t), b = std::min(to, m.t + 60);
  if (b <= a) return;
  const double s = static_cast<double>(b - a);
  if (stop_v && m.battery_v_min && *m.battery_v_min < *stop_v) side.minutes_under_stop += s / 60;
  if (rated_w <= 0) return;
  if (!m.pv_w || !m.load_w || !m.battery_v_avg || *m.battery_v_avg <= 0) {
    side.minutes_not_costed += s / 60;
    return;
  }
  // The site's load includes this one while its relay had it on.
  const double rest_w = std::max(0.0, *m.load_w - (relay_on ? rated_w : 0.0));
  const double surplus_w = std::max(0.0, *m.pv_w - rest_w);
  const double from_surplus_w = std::min(rated_w, surplus_w);
  side.surplus_kwh += from_surplus_w * s / 3600.0 / 1000.0;
  side.battery_ah += (rated_w - from_surplus_w) / *m.battery_v_avg * s / 3600.0;
}

}  // namespace

std::vector<ShadowTally> shadow_tally(const Day& day, const StoredProfiles& profiles, bool candidate) {
  std::map<std::string, LoadRef> refs;
  for (auto& l : load_refs(profiles)) refs.emplace(l.id, l);
  std::vector<ShadowTally> out;
  for (const auto& line : day.loads) {
    const auto& spans = candidate ? line.candidate : line.shadow;
    if (spans.empty()) continue;
    ShadowTally t{line.id, line.name, 0, {}, {}};
    std::optional<double> stop_v;
    if (const auto it = refs.find(line.id); it != refs.end()) {
      t.rated_w = rated_draw_w(profiles.rules, it->second);
      stop_v = stop_v_of(profiles, it->second);
    }
    for (const auto& sp : spans) {
      // Only what lies within the day; a spell still open runs to the day's end.
      const std::int64_t from = std::max(sp.from, day.start), to = std::min(sp.to == 0 ? day.end : sp.to, day.end);
      if (to <= from || sp.would_on == sp.actual_on) continue;
      ShadowSide& side = sp.would_on ? t.would_run : t.ran_instead;
      ++side.spells;
      side.minutes += static_cast<double>(to - from) / 60;
      // The stop voltage matters where the load ran against shackd's word.
      const auto stop = sp.actual_on ? stop_v : std::nullopt;
      for (const auto& m : day.minutes) cost_minute(side, m, from, to, t.rated_w, sp.actual_on, stop);
    }
    if (t.any()) out.push_back(std::move(t));
  }
  return out;
}

std::vector<std::string> shadow_tally_lines(const std::vector<ShadowTally>& tally, bool candidate) {
  std::vector<std::string> lines;
  if (tally.empty()) return lines;
  lines.push_back(candidate ? "candidate profile: where its decision and the one in force differed (its rated draw, from the "
                              "surplus first, then the bank):"
                            : "shadow mode: where shackd's decision and the relay differed (its rated draw, from the surplus "
                              "first, then the bank):");
  for (const auto& t : tally) {
    std::string text = fmt::format("  {}:", t.name);
    const auto side = [&](const ShadowSide& s, const char* what, const char* energy) {
      if (s.spells == 0) return;
      text += fmt::format(" {} {} time(s), {}", what, s.spells, minutes_text(s.minutes));
      if (t.rated_w > 0) text += fmt::format(", {} {:.2f} kWh of surplus and {:.1f} Ah of the bank", energy, s.surplus_kwh, s.battery_ah);
      if (s.minutes_under_stop > 0) text += fmt::format(", {} below its stop voltage", minutes_text(s.minutes_under_stop));
      if (s.minutes_not_costed > 0) text += fmt::format(" ({} with no telemetry, not costed)", minutes_text(s.minutes_not_costed));
      text += ";";
    };
    side(t.would_run, candidate ? "the candidate would have run it" : "shackd would have run it", "using");
    side(t.ran_instead, candidate ? "it ran where the candidate would not" : "it ran where shackd would not", "spending");
    if (t.rated_w <= 0) text += " (no rated draw: time only)";
    if (text.back() == ';') text.pop_back();
    lines.push_back(std::move(text));
  }
  return lines;
}

}  // namespace shackd::report
