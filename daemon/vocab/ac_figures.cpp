// Each AC source against its rating, one projection for the metrics and the publisher
// (daemon/vocab/ac_figures.hpp).
#include "daemon/vocab/ac_figures.hpp"

#include <algorithm>
#include <cmath>

#include "daemon/text/json_out.hpp"

namespace shackd {

bool AcSourceFigures::overloaded() const {
  for (std::size_t k = 0; k < phases && k < phase.size(); ++k) {
    if (phase[k].overloaded) return true;
  }
  return false;
}

std::optional<double> AcSourceFigures::worst_overload() const {
  std::optional<double> worst = overload;
  for (std::size_t k = 0; k < phases && k < phase.size(); ++k) {
    if (const auto& w = phase[k].overload; w && (!worst || *w > *worst)) worst = w;
  }
  return worst;
}

AcFigures ac_figures(const rules::Profiles& p, const rules::Snapshot& snap, const rules::State& next,
                     rules::SteadyTime now) {
  const auto fresh = [&](const std::optional<rules::Reading>& r) -> std::optional<double> {
    if (r && now - r->as_of <= p.site.electrical_stale_after && std::isfinite(r->value)) return r->value;
    return std::nullopt;
  };
  AcFigures out;
  out.count = std::min(rules::ac_source_count(p), out.source.size());
  for (std::size_t s = 0; s < out.count; ++s) {
    const rules::AcSource& a = rules::ac_source(p, s);
    AcSourceFigures& f = out.source[s];
    f.name = a.name;
    f.kind = a.kind;
    f.phases = std::clamp<std::size_t>(a.phases, 1, rules::kMaxAcPhases);
    f.rating_w = a.continuous_w;
    f.surge_w = a.surge_w;
    const rules::AcSourceReadings* r = s < snap.ac.size() ? &snap.ac[s] : nullptr;
    if (r) f.overload = fresh(r->overload);
    for (std::size_t k = 0; k < f.phases; ++k) {
      if (r) {
        f.phase[k].load_w = fresh(r->phase[k].load_w);
        f.phase[k].overload = fresh(r->phase[k].overload);
      }
      // The rules mark each cycle a phase is overloaded (ac_budget.cpp: overload_at = now).
      f.phase[k].overloaded = next.site.ac[s][k].overload_at == snap.now;
    }
  }
  if (const auto g = fresh(snap.generator_running)) out.generator_running = *g >= 0.5;
  return out;
}

std::string ac_source_json(const AcSourceFigures& s, std::optional<bool> generator_running) {
  static constexpr std::string_view kLoad[] = {"load_w_l1", "load_w_l2", "load_w_l3"};
  static constexpr std::string_view kOver[] = {"overload_l1", "overload_l2", "overload_l3"};
  const bool generator = s.kind == rules::AcSourceKind::generator;
  std::string out = "{";
  json_out::key(out, "source");
  json_out::string(out, s.name);
  json_out::key(out, "kind");
  json_out::string(out, generator ? "generator" : "inverter");
  json_out::key(out, "phases");
  out += std::to_string(s.phases);
  json_out::key(out, "rating_w");  // per phase; null: not rated (no budget)
  json_out::number(out, s.rating_w > 0 ? std::optional<double>(s.rating_w) : std::nullopt, 0);
  json_out::key(out, "surge_w");  // per phase, what a start's inrush must fit in; null: no surge test
  json_out::number(out, s.surge_w > 0 ? std::optional<double>(s.surge_w) : std::nullopt, 0);
  for (std::size_t k = 0; k < s.phases && k < s.phase.size(); ++k) {
    json_out::key(out, kLoad[k]);
    json_out::number(out, s.phase[k].load_w, 0);
  }
  json_out::key(out, "overloaded");
  out += s.overloaded() ? "true" : "false";
  for (std::size_t k = 0; k < s.phases && k < s.phase.size(); ++k) {
    json_out::key(out, kOver[k]);
    out += s.phase[k].overloaded ? "true" : "false";
  }
  json_out::key(out, "warning");  // the device's own word, the worst known: 0 ok, 1 warning, 2 alarm
  json_out::number(out, s.worst_overload(), 0);
  if (generator) {
    json_out::key(out, "running");
    out += !generator_running ? "null" : *generator_running ? "true" : "false";
  }
  out += '}';
  return out;
}

}  // namespace shackd
