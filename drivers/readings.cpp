#include "drivers/readings.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace drivers {

void ReadingStore::update(const PollResult& poll) {
  for (const Reading& r : poll.readings) set(r.name, r.value, r.as_of);
  // "Not available" is missing now, so the next source in the owner's order decides at once,
  // not once this one has aged out.
  for (const auto& name : poll.unavailable) latest_.erase(name);
}

void ReadingStore::set(const std::string& name, double value, SteadyTime as_of) {
  if (const auto it = latest_.find(std::string_view(name)); it != latest_.end()) {
    it->second = rules::Reading{value, as_of};  // no copy of the name: the same readings every poll
  } else {
    latest_.emplace(name, rules::Reading{value, as_of});
  }
}

std::optional<rules::Reading> ReadingStore::get(std::string_view name) const {
  const auto it = latest_.find(name);
  if (it == latest_.end()) return std::nullopt;
  return it->second;
}

std::optional<rules::Reading> ReadingStore::first_fresh(const std::vector<std::string>& names, SteadyTime now,
                                                        rules::Duration fresh_within) const {
  std::optional<rules::Reading> newest;
  for (const auto& n : names) {
    const auto r = get(n);
    if (!r) continue;
    if (now - r->as_of <= fresh_within) return r;
    if (!newest || r->as_of > newest->as_of) newest = r;
  }
  return newest;
}

std::optional<rules::Reading> ReadingStore::sum(const std::vector<std::string>& names) const {
  if (names.empty()) return std::nullopt;
  rules::Reading total{0, SteadyTime::max()};
  for (const auto& n : names) {
    const auto r = get(n);
    if (!r) return std::nullopt;
    total.value += r->value;
    total.as_of = std::min(total.as_of, r->as_of);
  }
  return total;
}

ReadingStore::Sum ReadingStore::sum_fresh(const std::vector<std::string>& names, SteadyTime now,
                                          rules::Duration fresh_within) const {
  // One pass: the whole sum (as sum() makes it) and the sum of the fresh parts, clamped at 0.
  rules::Reading whole{0, SteadyTime::max()}, fresh{0, SteadyTime::max()};
  bool missing = names.empty(), stale = false, any_fresh = false;
  for (const auto& n : names) {
    const auto r = get(n);
    if (!r) {
      missing = true;
      continue;
    }
    whole.value += r->value;
    whole.as_of = std::min(whole.as_of, r->as_of);
    if (now - r->as_of > fresh_within) {
      stale = true;
      continue;
    }
    fresh.value += std::max(0.0, r->value);
    fresh.as_of = std::min(fresh.as_of, r->as_of);
    any_fresh = true;
  }
  if (!missing && !stale) return {whole, false};
  if (any_fresh) return {fresh, true};
  // Nothing fresh: as sum() says, stale as a whole or missing.
  return {missing ? std::nullopt : std::optional(whole), false};
}

namespace {

// The worst of an AC source's overload words: any fresh one above 0 says overload (the largest
// counts); else all read and fresh: ok; else not known.
std::optional<rules::Reading> worst_word(const ReadingStore& store, const std::vector<std::string>& names,
                                         SteadyTime now, rules::Duration fresh_within) {
  if (names.empty()) return std::nullopt;
  std::optional<rules::Reading> worst;
  bool all_fresh = true;
  SteadyTime oldest = now;
  for (const auto& name : names) {
    const auto r = store.get(name);
    if (!r || now - r->as_of > fresh_within) {
      all_fresh = false;
      continue;
    }
    oldest = std::min(oldest, r->as_of);
    if (r->value > 0 && (!worst || r->value > worst->value)) worst = r;
  }
  if (worst) return worst;
  if (!all_fresh) return std::nullopt;
  return rules::Reading{0, oldest};
}

}  // namespace

rules::Snapshot build_snapshot(const ReadingStore& store, const SnapshotMapping& m, SteadyTime now,
                               std::optional<int> local_minute_of_day) {
  rules::Snapshot s;
  s.now = now;
  s.local_minute_of_day = local_minute_of_day;
  for (const auto& src : m.battery_v) s.battery_v.push_back({src.name, src.label, store.get(src.reading)});
  // The first measurement whose parts are all fresh, else the most recent whole one.
  for (const auto& parts : m.battery_a) {
    const auto r = store.sum(parts);
    if (!r) continue;
    if (now - r->as_of <= m.fresh_within) {
      s.battery_a = r;
      break;
    }
    if (!s.battery_a || r->as_of > s.battery_a->as_of) s.battery_a = r;
  }
  for (const auto& src : m.battery_temp_c) s.battery_temp_c.push_back({src.name, src.label, store.get(src.reading)});
  const auto pv = store.sum_fresh(m.pv_w, now, m.fresh_within);
  s.pv_w = pv.reading;
  s.pv_w_partial = pv.partial;
  const auto load = store.sum_fresh(m.load_w, now, m.fresh_within);
  s.load_w = load.reading;
  s.load_w_partial = load.partial;
  for (const auto& name : m.zone_temp_c) s.zone_temp_c.push_back(store.get(name));
  for (const auto& spec : m.ac) {
    rules::AcSourceReadings r;
    r.overload = worst_word(store, spec.overload, now, m.fresh_within);
    for (std::size_t k = 0; k < spec.load_w.size(); ++k) {
      if (!spec.load_w[k].empty()) r.phase[k].load_w = store.sum(spec.load_w[k]);
      r.phase[k].overload = worst_word(store, spec.overload_phase[k], now, m.fresh_within);
    }
    s.ac.push_back(r);
  }
  // Yes wins over no: two devices that disagree (one stale in its own way) leave the site on
  // generator power, the side on which no fuel is spent against the owner's policy.
  for (const auto& g : m.generator_running) {
    const auto r = store.get(g.reading);
    if (!r || now - r->as_of > m.fresh_within || !std::isfinite(r->value)) continue;
    const auto is = [&](const std::vector<int>& values) {
      return std::find(values.begin(), values.end(), static_cast<int>(std::lround(r->value))) != values.end();
    };
    if (is(g.running)) {
      s.generator_running = rules::Reading{1, r->as_of};
      break;
    }
    if (is(g.not_running) && !s.generator_running) s.generator_running = rules::Reading{0, r->as_of};
  }
  for (const auto& l : m.chargers_limiting) {
    const auto r = store.get(l.reading);
    if (!r || now - r->as_of > m.fresh_within) continue;
    if (!l.unless_read.empty()) {
      const auto stronger = store.get(l.unless_read);
      if (stronger && now - stronger->as_of <= m.fresh_within) continue;
    }
    const bool match = std::find(l.values.begin(), l.values.end(), static_cast<int>(std::lround(r->value))) != l.values.end();
    if (!s.chargers_limiting || match) s.chargers_limiting = rules::Reading{match ? 1.0 : 0.0, r->as_of};
    if (match) {
      s.chargers_evidence = l.label.empty() ? fmt::format("{} = {:.0f}", l.reading, r->value) : l.label;
      break;
    }
  }
  // A charger's own word (the GX's 791 or its stage) decides where one is read: the setpoint
  // below is an inference from the bank's voltage, and a bank the GX's MPPTs track on is not held
  // at its setpoint for any charger (an independent overcast afternoon ran on, the Sol-Ark's
  // inference saying "held" at 56 V while the GX said tracking and the bank paid 0.6 Ah).
  for (const auto& h : m.chargers_held) {
    if (s.chargers_limiting) break;
    const auto fresh = [&](const std::string& name) {
      const auto r = store.get(name);
      return r && now - r->as_of <= m.fresh_within ? r : std::nullopt;
    };
    const auto v = fresh(h.battery_v), a = fresh(h.battery_a);
    const auto its_pv = store.sum_fresh(h.pv_w, now, m.fresh_within);
    if (!v || !a || !its_pv.reading || now - its_pv.reading->as_of > m.fresh_within) continue;
    const bool producing = its_pv.reading->value >= h.min_pv_w;
    if (!producing && its_pv.partial) continue;  // a lower bound cannot say "not producing"
    // Held at absorption puts current in, or tapers to none: a bank at that voltage giving
    // more than the taper is paying for its loads, whatever its voltage still reads.
    const bool at_absorption = v->value >= h.absorption_v - h.margin_v && a->value >= -h.taper_a;
    const bool at_float = v->value >= h.float_v - h.margin_v && std::fabs(a->value) <= h.taper_a;
    const bool held = producing && (at_absorption || at_float);
    s.chargers_limiting = rules::Reading{held ? 1.0 : 0.0, std::min({v->as_of, a->as_of, its_pv.reading->as_of})};
    if (held) {
      s.chargers_evidence = fmt::format("{}'s battery held at {:.2f} V, {:+.1f} A, with {:.0f} W of PV", h.label, v->value,
                                        a->value, its_pv.reading->value);
    }
  }
  return s;
}

}  // namespace drivers
