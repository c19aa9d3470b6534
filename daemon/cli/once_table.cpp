#include "daemon/cli/once_table.hpp"

#include <fmt/format.h>

#include "daemon/vocab/publish.hpp"
#include "daemon/vocab/render.hpp"

namespace shackd {

std::string once_table(const OnceView& v) {
  std::string out = fmt::format("battery {} (source {}: {}, {}), SOC {} (estimated)\n",
                                v.decision.battery.measured_v ? fmt::format("{:.2f} V", *v.decision.battery.measured_v) : "n/a",
                                source_name(v.snap.battery_v, v.decision.battery.source),
                                source_label(v.snap.battery_v, v.decision.battery.source), band_name(v.decision.battery.band),
                                v.decision.battery.soc_pct ? fmt::format("{:.0f} %", *v.decision.battery.soc_pct) : "n/a");
  // "charging allowed: 6.0 °C (limit 0.0 °C)" says it already; a block says why.
  out += fmt::format("{}{} ({})\n", v.decision.block_charging ? "charging BLOCKED: " : "",
                     rules::describe(v.decision.charge_reason), charge_temp_from(v.snap, v.decision, v.profiles.rules));
  // The other decision inputs: a PV or load sum with a part missing is a lower bound ("at least").
  const auto measured = [](const std::optional<rules::Reading>& r, bool partial, const char* unit) {
    return r ? fmt::format("{}{:.0f} {}", partial ? "at least " : "", r->value, unit) : std::string("missing");
  };
  const auto& held = v.snap.chargers_limiting;
  out += fmt::format("inputs: PV {}, load {}, battery current {}, chargers holding PV back: {}\n",
                     measured(v.snap.pv_w, v.snap.pv_w_partial, "W"), measured(v.snap.load_w, v.snap.load_w_partial, "W"),
                     v.snap.battery_a ? fmt::format("{:.1f} A", v.snap.battery_a->value) : std::string("missing"),
                     !held ? "unknown" : held->value > 0.5 ? "yes: " + v.snap.chargers_evidence : std::string("no"));
  for (const auto& a : v.device_alarms.active()) {
    out += fmt::format("device {}: {} {}\n", a.second.warning ? "warning" : "alarm", a.first, a.second.text);
  }
  out += fmt::format("{:<22} {:<18} {:<5} {}\n", "load", "relay", "want", "reason");
  for (const auto& l : v.loads) {
    const auto& d = decision_for(v.decision, l);
    out += fmt::format("{:<22} {:<18} {:<5} {}\n", l.name, l.id, (d.on ? "ON" : "OFF"), rules::describe(d.reason));
  }
  for (const auto& a : v.decision.alarms) out += "alarm: " + rules::describe(a) + "\n";
  for (const auto& line : effective_threshold_lines(v.profiles)) out += "limits: " + line + "\n";
  if (v.decision.block_charging) out += "charging blocked: " + rules::describe(v.decision.charge_reason) + "\n";
  return out;
}

}  // namespace shackd
