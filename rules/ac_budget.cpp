// The AC budget: a start waits until the phase that feeds it has room for its draw, and while the
// source warns of an overload the lowest-priority load on it is shed, one a cycle (issue 59). An
// inverter that overloads shuts its AC output down: the relays and the controller go dark.
// A start must also fit the source's surge rating (surge_w): a motor's or a PSU's inrush trips an
// inverter whose continuous budget still holds; a cycle's start draws on a phase add up there.
//
// Hostile or missing readings (docs/guide.md, "AC sources"):
// - a load reading that is missing, stale, NaN or beyond +-1 MW is not known; on a rated source a
//   start then waits (ac_load_unknown): not knowing never permits what knowing could refuse. A
//   load already on stays on: a reading lost is no overload.
// - a small negative load (AC-coupled PV feeding back through the output) counts as 0 W.
// - an overload word that is missing, stale, NaN or negative is not known (the measured load
//   against the rating still applies); 0 is ok; any other value counts as an overload, since a
//   device that says more than "ok" is not to be argued with.
//
// A generator (issue 59, part 4) feeds no load itself: it feeds an inverter's AC input, and the
// inverter passes it through to its output while it runs. So while it runs every load on an
// inverter is on the generator as well, on the generator's phase of the same number (L1 when it
// has one), and a start must fit both budgets. What it carries is its own measured output (the
// site's generator power per phase: docs/guide.md, "On generator power"), which holds the house,
// our loads and what the inverter's charger takes from it: a charger that yields to the loads at
// the inverter's input current limit would leave room this budget does not count, so a start
// errs toward waiting, never toward an overloaded generator. Our own loads that are on count at
// their rating where the measured output is lower (a miner that started a cycle ago). While the
// generator is off, its budget and its overload tolerance are not consulted; while it is not
// known whether it runs, they are (its load then usually not known either: a start waits).
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

bool is_generator(const AcSource* s) { return s && s->kind == AcSourceKind::generator; }

// The generator's phase that feeds an inverter's phase: the same number, L1 when it has fewer.
std::size_t generator_phase(const AcSource& g, std::size_t phase) { return phase < g.phases ? phase : 0; }

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

double miner_surge_draw_w(const MinerProfile& m) { return m.start_w ? *m.start_w : miner_start_draw_w(m); }

void assess_ac(const Snapshot& snap, const Profiles& p, const State& prev, const HeatCalls& heat, SiteState& site,
               AcCycle& out) {
  const SteadyTime now = snap.now;
  const Duration max_age = p.site.electrical_stale_after;
  out.sources = ac_source_count(p);
  out.victim_count = 0;
  out.generator_configured = false;
  out.generator_name = "generator";
  for (std::size_t s = 0; s < out.sources; ++s) {
    out.source[s] = &ac_source(p, s);
    if (is_generator(out.source[s]) && !out.generator_configured) {
      out.generator_configured = true;
      out.generator_name = out.source[s]->name;
    }
  }
  // 0 or 1 as the drivers map the device's word; anything else (NaN, negative) is not known.
  const std::optional<double> running = fresh_value(snap.generator_running, now, max_age);
  if (running && std::isfinite(*running) && *running >= 0) {
    out.generator = *running >= 0.5 ? GeneratorState::running : GeneratorState::off;
  } else {
    out.generator = out.generator_configured ? GeneratorState::unknown : GeneratorState::off;
  }

  // What our own loads that are on are rated at, per phase: a miner that started a cycle ago
  // is not drawing yet, and the measured load must not look like room it has already taken.
  std::array<std::array<double, kMaxAcPhases>, kMaxAcSources> ours_w{};
  const bool via_generator = out.generator_configured && out.generator != GeneratorState::off;
  const auto count_ours = [&](const AcFeed& feed, double w) {
    const AcFeed f = clamp_feed(out, feed);
    ours_w[f.source][f.phase] += w;
    if (!via_generator) return;
    for (std::size_t s = 0; s < out.sources; ++s) {
      if (s == f.source) continue;
      for (std::size_t ph = 0; ph < out.source[s]->phases && ph < kMaxAcPhases; ++ph) {
        if (out.carries(s, ph, feed)) ours_w[s][ph] += w;
      }
    }
  };
  for (std::size_t i = 0; i < p.miners.size() && i < prev.miners.size(); ++i) {
    if (prev.miners[i].on) count_ours(p.miners[i].feed, miner_start_draw_w(p.miners[i]));
  }
  for (std::size_t i = 0; i < p.zones.size() && i < prev.zones.size(); ++i) {
    if (p.zones[i].has_heater && prev.zones[i].heater.on) count_ours(p.zones[i].heater_feed, p.zones[i].heater_power_w);
  }

  for (std::size_t s = 0; s < out.sources; ++s) {
    const AcSource& src = *out.source[s];
    const AcSourceReadings* r = s < snap.ac.size() ? &snap.ac[s] : nullptr;
    const std::optional<bool> source_word = r ? overload_word(r->overload, now, max_age) : std::nullopt;
    // A generator that is off carries nothing of ours: no budget, no tolerance running.
    const bool idle = is_generator(&src) && out.generator == GeneratorState::off;
    for (std::size_t ph = 0; ph < kMaxAcPhases; ++ph) {
      AcPhaseView& v = out.phase[s][ph];
      AcPhaseState& st = site.ac[s][ph];
      v = AcPhaseView{};
      if (ph >= src.phases) {
        st = AcPhaseState{};
        continue;
      }
      v.phase_no = src.phases > 1 ? static_cast<int>(ph) + 1 : 0;
      if (idle) {
        st.over_since.reset();
        continue;
      }
      v.continuous_w = src.continuous_w;
      v.surge_w = src.surge_w;
      v.margin_w = src.margin_w;
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
      // The whole unit's word holds starts on every leg, but sheds one load for the unit (below).
      v.leg_overloaded = over_too_long || phase_word.value_or(false);
      v.overloaded = v.leg_overloaded || source_word.value_or(false);
      if (v.overloaded) st.overload_at = now;
      if (st.overload_at) {
        const Duration since = now - *st.overload_at;
        if (since < src.overload_hold) v.hold_left = src.overload_hold - since;
        else st.overload_at.reset();
      }
    }
  }

  // The load an overload on phases [first, last) of source s sheds: the lowest priority on any of
  // them, a load that heats a zone calling for heat last. nullopt: none of ours is on there.
  const auto worst_on = [&](std::size_t s, std::size_t first, std::size_t last) {
    std::optional<Candidate> worst;
    const auto consider = [&](const Candidate& c) {
      if (!worst || sheds_before(c, *worst)) worst = c;
    };
    const auto on_any = [&](const AcFeed& feed) {
      for (std::size_t ph = first; ph < last; ++ph) {
        if (out.carries(s, ph, feed)) return true;
      }
      return false;
    };
    for (std::size_t i = 0; i < p.miners.size() && i < prev.miners.size() && i < kMaxMiners; ++i) {
      if (!prev.miners[i].on || !on_any(p.miners[i].feed)) continue;
      consider({LoadKind::miner, i, heat.call[i] ? 0 : 1, 100 * p.miners[i].priority + static_cast<int>(i)});
    }
    for (std::size_t i = 0; i < p.zones.size() && i < prev.zones.size(); ++i) {
      if (!p.zones[i].has_heater || !prev.zones[i].heater.on || !on_any(p.zones[i].heater_feed)) continue;
      // A heater runs only for a zone calling for heat: it protects it, and goes after the miners.
      consider({LoadKind::heater, i, 0, -1 - static_cast<int>(i)});
    }
    return worst;
  };
  const auto add_victim = [&](const Candidate& c, double load_w, double rating_w, std::size_t s, int phase_no) {
    if (out.victim_count == out.victims.size()) return;
    AcVictim& victim = out.victims[out.victim_count++];
    victim.kind = c.kind;
    victim.index = c.index;
    victim.reason = Reason{ReasonCode::ac_overload, ReasonCode::none, load_w, rating_w > 0 ? rating_w : kNaN, {}};
    set_subject(victim.reason, out.source[s]->name, phase_no);
  };

  // One load shed per overloaded phase this cycle (its own word, or its load past the
  // tolerance); the next cycle, if it persists, the next.
  for (std::size_t s = 0; s < out.sources; ++s) {
    const std::size_t phases = std::min(out.source[s]->phases, kMaxAcPhases);
    bool leg_shed = false;
    for (std::size_t ph = 0; ph < phases; ++ph) {
      const AcPhaseView& v = out.phase[s][ph];
      if (!v.leg_overloaded) continue;
      if (const auto worst = worst_on(s, ph, ph + 1)) {
        add_victim(*worst, v.measured_w.value_or(kNaN), v.continuous_w, s, v.phase_no);
        leg_shed = true;
      }
    }
    // The whole source's word (AcSourceReadings::overload, a unit-wide warning) does not say
    // which leg: it sheds one load a cycle on the whole source, the lowest priority across its legs, and none
    // when a leg's own word or load shed one this cycle (that leg is the overloaded one). Its
    // reason: the legs' summed load (not known if one is not) against their summed rating.
    const AcSourceReadings* r = s < snap.ac.size() ? &snap.ac[s] : nullptr;
    if (leg_shed || !r || !overload_word(r->overload, now, max_age).value_or(false)) continue;
    if (is_generator(out.source[s]) && out.generator == GeneratorState::off) continue;
    const auto worst = worst_on(s, 0, phases);
    if (!worst) continue;
    double load_w = 0;
    double rating_w = 0;
    for (std::size_t ph = 0; ph < phases; ++ph) {
      load_w += out.phase[s][ph].measured_w.value_or(kNaN);
      rating_w += out.phase[s][ph].continuous_w;
    }
    add_victim(*worst, load_w, rating_w, s, 0);
  }
}

std::optional<Reason> AcCycle::hold_on(std::size_t s, std::size_t ph, double draw_w, double start_w) const {
  const AcPhaseView& v = phase[s][ph];
  const std::string_view name = source[s] ? std::string_view(source[s]->name) : "inverter";
  const bool budget = v.continuous_w > 0;
  const bool surge = v.surge_w > 0;
  std::optional<Reason> r;
  if (v.overloaded || v.hold_left > Duration{0}) {
    r = Reason{ReasonCode::ac_overload_hold, ReasonCode::none, kNaN, kNaN, v.hold_left};
  } else if (!budget && !surge) {
    return std::nullopt;  // no rating: no budget
  } else if (!v.used_w) {
    r = Reason{ReasonCode::ac_load_unknown, ReasonCode::none, kNaN, draw_w, {}};
  } else {
    // A NaN draw never fits either test.
    const double room_w = v.continuous_w - v.margin_w - *v.used_w;
    // The surge test: what ran before this cycle's starts (used_w holds their rated draws), the
    // start draws of this cycle's starts on the phase and this one's, and the margin, within
    // surge_w. Starts a cycle apart do not add up: by the next cycle (>= 1 s) an inrush is over.
    const double surge_room_w = v.surge_w - v.margin_w - (*v.used_w - v.started_w) - v.start_draws_w;
    if (budget && !(draw_w <= room_w)) {
      r = Reason{ReasonCode::ac_budget, ReasonCode::none, room_w, draw_w, {}};
    } else if (surge && !(start_w <= surge_room_w)) {
      r = Reason{ReasonCode::ac_surge, ReasonCode::none, surge_room_w, start_w, {}};
    } else {
      return std::nullopt;
    }
  }
  set_subject(*r, name, v.phase_no);
  return r;
}

void AcCycle::release_on(std::size_t s, std::size_t ph, double draw_w) {
  if (auto& used = phase[s][ph].used_w) *used -= draw_w;
}

void AcCycle::release(const AcFeed& feed, double draw_w) {
  if (!std::isfinite(draw_w)) return;
  const AcFeed f = clamp_feed(*this, feed);
  release_on(f.source, f.phase, draw_w);
  if (!generator_configured || generator == GeneratorState::off) return;
  for (std::size_t s = 0; s < sources; ++s) {
    if (s == f.source) continue;
    for (std::size_t ph = 0; ph < source[s]->phases && ph < kMaxAcPhases; ++ph) {
      if (carries(s, ph, feed)) release_on(s, ph, draw_w);
    }
  }
}

void AcCycle::commit_on(std::size_t s, std::size_t ph, double draw_w, double start_w) {
  AcPhaseView& v = phase[s][ph];
  if (!v.used_w) return;
  *v.used_w += draw_w;
  v.started_w += draw_w;
  if (std::isfinite(start_w)) v.start_draws_w += start_w;
}

bool AcCycle::carries(std::size_t s, std::size_t ph, const AcFeed& feed) const {
  const AcFeed f = clamp_feed(*this, feed);
  if (f.source == s) return f.phase == ph;
  if (s >= sources || !is_generator(source[s]) || generator == GeneratorState::off) return false;
  if (is_generator(source[f.source])) return false;  // validate() refuses a load fed by one
  return generator_phase(*source[s], f.phase) == ph;
}

// The load's own source first (its reason names the inverter), then a generator feeding it.
std::optional<Reason> AcCycle::hold(const AcFeed& feed, double draw_w, double start_w) const {
  const AcFeed f = clamp_feed(*this, feed);
  if (auto r = hold_on(f.source, f.phase, draw_w, start_w)) return r;
  if (!generator_configured || generator == GeneratorState::off) return std::nullopt;
  for (std::size_t s = 0; s < sources; ++s) {
    if (s == f.source) continue;
    for (std::size_t ph = 0; ph < source[s]->phases && ph < kMaxAcPhases; ++ph) {
      if (!carries(s, ph, feed)) continue;
      if (auto r = hold_on(s, ph, draw_w, start_w)) return r;
    }
  }
  return std::nullopt;
}

void AcCycle::commit(const AcFeed& feed, double draw_w, double start_w) {
  if (!std::isfinite(draw_w)) return;
  const AcFeed f = clamp_feed(*this, feed);
  commit_on(f.source, f.phase, draw_w, start_w);
  if (!generator_configured || generator == GeneratorState::off) return;
  for (std::size_t s = 0; s < sources; ++s) {
    if (s == f.source) continue;
    for (std::size_t ph = 0; ph < source[s]->phases && ph < kMaxAcPhases; ++ph) {
      if (carries(s, ph, feed)) commit_on(s, ph, draw_w, start_w);
    }
  }
}

std::optional<Reason> AcCycle::shed(LoadKind kind, std::size_t index) const {
  for (std::size_t i = 0; i < victim_count; ++i) {
    if (victims[i].kind == kind && victims[i].index == index) return victims[i].reason;
  }
  if (kind == LoadKind::miner && index < room_for.size() && room_for[index] > 0) {
    const HeaterRoomShed& h = heater_room[room_for[index] - 1];
    Reason r{ReasonCode::ac_heater_room, ReasonCode::none, h.room_w, h.draw_w, {}};
    set_subject(r, h.zone, 0);
    return r;
  }
  return std::nullopt;
}

bool make_heater_room(const Profiles& p, const State& next, const HeatCalls& heat, std::string_view zone,
                      const AcFeed& feed, double draw_w, const Reason& held, AcCycle& ac) {
  if (held.code != ReasonCode::ac_budget && held.code != ReasonCode::ac_surge) return false;
  if (ac.heater_room_count == ac.heater_room.size()) return false;
  const AcFeed f = clamp_feed(ac, feed);
  // The running discretionary miners on the heater's source and phase, in shed order (the
  // overload's: priority 10 before 1, then the later one). Fixed storage: no allocation a cycle.
  struct Running {
    int order = 0;
    std::size_t index = 0;
    double w = 0;
  };
  std::array<Running, kMaxMiners> running{};
  std::size_t count = 0;
  for (std::size_t i = 0; i < p.miners.size() && i < next.miners.size() && i < kMaxMiners; ++i) {
    const MinerProfile& m = p.miners[i];
    const LoadState& st = next.miners[i];
    if (!st.on || heat.call[i] || st.override_.mode == OverrideMode::on) continue;
    if (clamp_feed(ac, m.feed) != f || ac.shed(LoadKind::miner, i)) continue;  // shed already: its room is not counted
    // What it gives back: its rating, or for one that follows a power target its last target (its
    // maximum may be far above what it draws; the least it can draw when the target is not known).
    const double w = m.target ? st.target_w.value_or(m.target->min_w) : m.power_w;
    Running r{100 * m.priority + static_cast<int>(i), i, w};
    std::size_t at = count++;
    while (at > 0 && running[at - 1].order < r.order) {
      running[at] = running[at - 1];
      --at;
    }
    running[at] = r;
  }
  // Give back one at a time until the heater fits; none shed when even all of them do not make it.
  std::size_t shed = 0;
  bool fits = false;
  while (shed < count && !fits) {
    ac.release(feed, running[shed++].w);
    const auto still = ac.hold(feed, draw_w, draw_w);
    fits = !still;
    if (still && still->code != ReasonCode::ac_budget && still->code != ReasonCode::ac_surge) break;
  }
  if (!fits) {
    for (std::size_t k = 0; k < shed; ++k) ac.release(feed, -running[k].w);
    return false;
  }
  ac.heater_room[ac.heater_room_count++] = {zone, held.value, draw_w};
  for (std::size_t k = 0; k < shed; ++k) ac.room_for[running[k].index] = static_cast<std::uint8_t>(ac.heater_room_count);
  return true;
}

}  // namespace rules::detail
