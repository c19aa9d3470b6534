// The AC budget: a start waits until the phase that feeds it has room for its draw, and while the
// source warns of an overload the lowest-priority load on it is shed, one a cycle (issue 59). An
// inverter that overloads shuts its AC output down: the relays and the controller go dark.
//
// Hostile or missing readings (docs/guide.md, "AC sources"):
// - a load reading that is missing, stale, NaN or beyond +-1 MW is not known; on a rated source a
//   start then waits (ac_load_unknown): not knowing never permits what knowing could refuse. A
//   load already on stays on: a reading lost is no overload.
// - a small negative load (AC-coupled PV feeding back through the output) counts as 0 W.
// - an overload word that is missing, stale, NaN or negative is not known (the measured load
//   against the rating still applies); 0 is ok; any other value counts as an overload, since a
//   device that says more than "ok" is not to be argued with.
#include <algorithm>
#include <cmath>

#include "rules/detail.hpp"

namespace rules {

std::size_t ac_source_count(const Profiles& p) {
  return p.ac_sources.empty() ? 1 : std::min(p.ac_sources.size(), kMaxAcSources);
}

const AcSource& ac_source(const Profiles& p, std::size_t i) {
  static const AcSource kDefault{};
  if (p.ac_sources.empty() || i >= p.ac_sources.size()) return kDefault;
  return p.ac_sources[i];
}

}  // namespace rules

namespace rules::detail {

namespace {

// No single phase of an off-grid source carries a megawatt: a reading beyond is a wrong scale or
// a sentinel, not a load.
constexpr double kAbsurdW = 1e6;

std::optional<double> plausible_load_w(const std::optional<Reading>& r, SteadyTime now, Duration max_age) {
  const auto w = fresh_value(r, now, max_age);
  if (!w || !std::isfinite(*w) || std::fabs(*w) > kAbsurdW) return std::nullopt;
  return std::max(0.0, *w);
}

// True: the device says overload; false: ok; nullopt: not known.
std::optional<bool> overload_word(const std::optional<Reading>& r, SteadyTime now, Duration max_age) {
  const auto v = fresh_value(r, now, max_age);
  if (!v || !std::isfinite(*v) || *v < 0) return std::nullopt;
  return *v >= 0.5;
}

AcFeed clamp_feed(const AcCycle& ac, AcFeed f) {
  if (f.source >= ac.sources) f.source = 0;
  const std::size_t phases = ac.source[f.source] ? ac.source[f.source]->phases : 1;
  if (f.phase >= phases) f.phase = 0;
  return f;
}

// Shed order within one phase: larger sheds first. Loads that heat a zone calling for heat come
// last (tier 0); among the rest a miner of priority 10 goes before one of priority 1.
struct Candidate {
  LoadKind kind = LoadKind::miner;
  std::size_t index = 0;
  int tier = 0;  // 1: discretionary, 0: protects a cold zone
  int order = 0;  // within a tier: larger sheds first
};
bool sheds_before(const Candidate& a, const Candidate& b) {
  if (a.tier != b.tier) return a.tier > b.tier;
  return a.order > b.order;
}

}  // namespace

double miner_start_draw_w(const MinerProfile& m) {
  return m.target ? std::max(m.power_w, m.target->max_w) : m.power_w;
}

void assess_ac(const Snapshot& snap, const Profiles& p, const State& prev, const HeatCalls& heat, SiteState& site,
               AcCycle& out) {
  const SteadyTime now = snap.now;
  const Duration max_age = p.site.electrical_stale_after;
  out.sources = ac_source_count(p);
  out.victim_count = 0;
  for (std::size_t s = 0; s < out.sources; ++s) out.source[s] = &ac_source(p, s);

  // What our own loads that are on are rated at, per phase: a miner that started a cycle ago
  // is not drawing yet, and the measured load must not look like room it has already taken.
  std::array<std::array<double, kMaxAcPhases>, kMaxAcSources> ours_w{};
  for (std::size_t i = 0; i < p.miners.size() && i < prev.miners.size(); ++i) {
    if (!prev.miners[i].on) continue;
    const AcFeed f = clamp_feed(out, p.miners[i].feed);
    ours_w[f.source][f.phase] += miner_start_draw_w(p.miners[i]);
  }
  for (std::size_t i = 0; i < p.zones.size() && i < prev.zones.size(); ++i) {
    if (!p.zones[i].has_heater || !prev.zones[i].heater.on) continue;
    const AcFeed f = clamp_feed(out, p.zones[i].heater_feed);
    ours_w[f.source][f.phase] += p.zones[i].heater_power_w;
  }

  for (std::size_t s = 0; s < out.sources; ++s) {
    const AcSource& src = *out.source[s];
    const AcSourceReadings* r = s < snap.ac.size() ? &snap.ac[s] : nullptr;
    const std::optional<bool> source_word = r ? overload_word(r->overload, now, max_age) : std::nullopt;
    for (std::size_t ph = 0; ph < kMaxAcPhases; ++ph) {
      AcPhaseView& v = out.phase[s][ph];
      AcPhaseState& st = site.ac[s][ph];
      v = AcPhaseView{};
      if (ph >= src.phases) {
        st = AcPhaseState{};
        continue;
      }
      v.continuous_w = src.continuous_w;
      v.margin_w = src.margin_w;
      v.phase_no = src.phases > 1 ? static_cast<int>(ph) + 1 : 0;
      if (r) v.measured_w = plausible_load_w(r->phase[ph].load_w, now, max_age);
      if (v.measured_w) v.used_w = std::max(*v.measured_w, ours_w[s][ph]);

      const bool rated = src.continuous_w > 0;
      if (rated && v.measured_w && *v.measured_w > src.continuous_w) {
        if (!st.over_since) st.over_since = now;
      } else if (v.measured_w) {
        st.over_since.reset();  // a missing reading neither starts nor ends the tolerance
      }
      const bool over_too_long = st.over_since && now - *st.over_since >= src.overload_tolerance;
      const std::optional<bool> phase_word = r ? overload_word(r->phase[ph].overload, now, max_age) : std::nullopt;
      v.overloaded = over_too_long || source_word.value_or(false) || phase_word.value_or(false);
      if (v.overloaded) st.overload_at = now;
      if (st.overload_at) {
        const Duration since = now - *st.overload_at;
        if (since < src.overload_hold) v.hold_left = src.overload_hold - since;
        else st.overload_at.reset();
      }
    }
  }

  // One load shed per overloaded phase this cycle; the next cycle, if it persists, the next.
  for (std::size_t s = 0; s < out.sources; ++s) {
    for (std::size_t ph = 0; ph < out.source[s]->phases && ph < kMaxAcPhases; ++ph) {
      const AcPhaseView& v = out.phase[s][ph];
      if (!v.overloaded) continue;
      std::optional<Candidate> worst;
      const auto consider = [&](const Candidate& c) {
        if (!worst || sheds_before(c, *worst)) worst = c;
      };
      for (std::size_t i = 0; i < p.miners.size() && i < prev.miners.size() && i < kMaxMiners; ++i) {
        const AcFeed f = clamp_feed(out, p.miners[i].feed);
        if (!prev.miners[i].on || f.source != s || f.phase != ph) continue;
        consider({LoadKind::miner, i, heat.call[i] ? 0 : 1, 100 * p.miners[i].priority + static_cast<int>(i)});
      }
      for (std::size_t i = 0; i < p.zones.size() && i < prev.zones.size(); ++i) {
        const AcFeed f = clamp_feed(out, p.zones[i].heater_feed);
        if (!p.zones[i].has_heater || !prev.zones[i].heater.on || f.source != s || f.phase != ph) continue;
        // A heater runs only for a zone calling for heat: it protects it, and goes after the miners.
        consider({LoadKind::heater, i, 0, -1 - static_cast<int>(i)});
      }
      if (!worst || out.victim_count == out.victims.size()) continue;
      AcVictim& victim = out.victims[out.victim_count++];
      victim.kind = worst->kind;
      victim.index = worst->index;
      victim.reason = Reason{ReasonCode::ac_overload, ReasonCode::none, v.measured_w.value_or(kNaN),
                             v.continuous_w > 0 ? v.continuous_w : kNaN, {}};
      set_subject(victim.reason, out.source[s]->name, v.phase_no);
    }
  }
}

std::optional<Reason> AcCycle::hold(const AcFeed& feed, double draw_w) const {
  const AcFeed f = clamp_feed(*this, feed);
  const AcPhaseView& v = phase[f.source][f.phase];
  const std::string_view name = source[f.source] ? std::string_view(source[f.source]->name) : "inverter";
  std::optional<Reason> r;
  if (v.overloaded || v.hold_left > Duration{0}) {
    r = Reason{ReasonCode::ac_overload_hold, ReasonCode::none, kNaN, kNaN, v.hold_left};
  } else if (!(v.continuous_w > 0)) {
    return std::nullopt;  // no rating: no budget
  } else if (!v.used_w) {
    r = Reason{ReasonCode::ac_load_unknown, ReasonCode::none, kNaN, draw_w, {}};
  } else {
    const double room_w = v.continuous_w - v.margin_w - *v.used_w;
    if (draw_w <= room_w) return std::nullopt;  // a NaN draw never fits
    r = Reason{ReasonCode::ac_budget, ReasonCode::none, room_w, draw_w, {}};
  }
  set_subject(*r, name, v.phase_no);
  return r;
}

void AcCycle::commit(const AcFeed& feed, double draw_w) {
  const AcFeed f = clamp_feed(*this, feed);
  AcPhaseView& v = phase[f.source][f.phase];
  if (v.used_w && std::isfinite(draw_w)) *v.used_w += draw_w;
}

std::optional<Reason> AcCycle::shed(LoadKind kind, std::size_t index) const {
  for (std::size_t i = 0; i < victim_count; ++i) {
    if (victims[i].kind == kind && victims[i].index == index) return victims[i].reason;
  }
  return std::nullopt;
}

}  // namespace rules::detail
