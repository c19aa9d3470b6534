// What the AC budget will do with a site, said before it runs (issue 59, part 5): where all the
// loads on one phase of a source cannot run at once, how many can. Not an error: holding the rest
// until there is room is the budget's job (rules/ac_budget.cpp). A load that can never fit its own
// inverter is validate()'s refusal; one that can never fit a generator still runs with the
// generator off, so it is a note here.
#include <algorithm>
#include <cmath>
#include <vector>

#include "rules/detail.hpp"
#include "rules/validate.hpp"

namespace rules {

namespace {

struct FedLoad {
  std::string who;  // "miner 'Primary S21+'", "zone 'Main Room' heater"
  double draw_w = 0;
  AcFeed feed;
  GeneratorPolicy on_generator = GeneratorPolicy::allow;
};

std::string watts(double w) { return std::to_string(std::lround(w)) + " W"; }

std::string where(const AcSource& a, std::size_t phase) {
  std::string s = (a.kind == AcSourceKind::generator ? "generator '" : "inverter '") + a.name + "'";
  if (a.phases > 1) s += " L" + std::to_string(phase + 1);
  return s;
}

// The enabled loads the budget holds (fans are not budgeted: tens of watts), each with the draw a
// start is checked with (ac_budget.cpp).
std::vector<FedLoad> fed_loads(const Profiles& p) {
  std::vector<FedLoad> out;
  for (const auto& m : p.miners) {
    if (m.enabled) out.push_back({"miner '" + m.name + "'", detail::miner_start_draw_w(m), m.feed, m.on_generator});
  }
  for (const auto& z : p.zones) {
    if (z.enabled && z.has_heater) {
      out.push_back({"zone '" + z.name + "' heater", z.heater_power_w, z.heater_feed, z.heater_on_generator});
    }
  }
  return out;
}

// At most how many of `on` fit together within room_w: the smallest first.
std::size_t most_at_once(std::vector<const FedLoad*> on, double room_w) {
  std::sort(on.begin(), on.end(), [](const FedLoad* a, const FedLoad* b) { return a->draw_w < b->draw_w; });
  std::size_t n = 0;
  double used_w = 0;
  for (const FedLoad* l : on) {
    if (used_w + l->draw_w > room_w) break;
    used_w += l->draw_w;
    ++n;
  }
  return n;
}

void note_phase(const AcSource& a, std::size_t phase, const std::vector<const FedLoad*>& on,
                std::vector<std::string>& out) {
  if (on.size() < 2) return;
  double sum_w = 0;
  for (const FedLoad* l : on) sum_w += l->draw_w;
  const double room_w = a.continuous_w - a.margin_w;
  if (sum_w <= room_w) return;
  std::string s = "at most " + std::to_string(most_at_once(on, room_w)) + " of " + std::to_string(on.size()) +
                  " loads at once on " + where(a, phase) + ": together " + watts(sum_w) + " of " + watts(room_w) +
                  " (continuous_w " + watts(a.continuous_w) + " less margin_w " + watts(a.margin_w) + ")";
  if (a.kind == AcSourceKind::generator) s += " while it runs";
  s += "; a start waits for room (";
  for (std::size_t i = 0; i < on.size(); ++i) s += (i ? ", " : "") + on[i]->who + " " + watts(on[i]->draw_w);
  out.push_back(s + ")");
}

}  // namespace

std::vector<std::string> ac_budget_notes(const Profiles& p) {
  std::vector<std::string> out;
  const std::vector<FedLoad> loads = fed_loads(p);
  for (std::size_t s = 0; s < ac_source_count(p); ++s) {
    const AcSource& a = ac_source(p, s);
    if (!(a.continuous_w > 0)) continue;  // no rating: no budget
    for (std::size_t ph = 0; ph < a.phases && ph < kMaxAcPhases; ++ph) {
      std::vector<const FedLoad*> on;
      for (const auto& l : loads) {
        if (a.kind == AcSourceKind::inverter) {
          if (l.feed.source == s && l.feed.phase == ph) on.push_back(&l);
          continue;
        }
        // A generator carries every load on an inverter while it runs, on its phase of the same
        // number (L1 when it has fewer: ac_budget.cpp), but those its policy stops (never).
        if (l.on_generator == GeneratorPolicy::never || (l.feed.phase < a.phases ? l.feed.phase : 0) != ph) continue;
        if (l.draw_w + a.margin_w > a.continuous_w) {
          out.push_back(l.who + " can never start on generator power: " + watts(l.draw_w) + " plus margin_w " +
                        watts(a.margin_w) + " is above the continuous_w " + watts(a.continuous_w) + " of " +
                        where(a, ph) + " (it runs while the generator is off)");
          continue;
        }
        on.push_back(&l);
      }
      note_phase(a, ph, on, out);
    }
  }
  return out;
}

}  // namespace rules
