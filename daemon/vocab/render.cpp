#include "daemon/vocab/render.hpp"

#include <fmt/format.h>

namespace shackd {

const rules::Source* source_at(const std::vector<rules::Source>& sources, int i) {
  return i >= 0 && static_cast<std::size_t>(i) < sources.size() ? &sources[static_cast<std::size_t>(i)] : nullptr;
}

std::string_view source_name(const std::vector<rules::Source>& sources, int i) {
  const auto* s = source_at(sources, i);
  return s ? std::string_view(s->name) : std::string_view("none");
}

std::string_view source_label(const std::vector<rules::Source>& sources, int i) {
  const auto* s = source_at(sources, i);
  return s ? std::string_view(s->label) : std::string_view("no source");
}

std::string charge_temp_from(const rules::Snapshot& snap, const rules::Decision& d, const rules::Profiles& p) {
  if (const auto* s = source_at(snap.battery_temp_c, d.charge_temp_source)) return "from " + s->label;
  if (d.charge_temp_zone >= 0 && static_cast<std::size_t>(d.charge_temp_zone) < p.zones.size()) {
    return "from the air of " + p.zones[static_cast<std::size_t>(d.charge_temp_zone)].name;
  }
  return "no temperature";
}

std::string_view band_name(rules::Band b) {
  switch (b) {
    case rules::Band::shutdown: return "shutdown";
    case rules::Band::critical: return "critical";
    case rules::Band::low: return "low";
    case rules::Band::recovering: return "recovering";
    case rules::Band::below_optimal: return "below_optimal";
    case rules::Band::optimal: return "optimal";
    case rules::Band::above_optimal: return "above_optimal";
    case rules::Band::floating: return "float";
    case rules::Band::absorption: return "absorption";
    case rules::Band::full: return "full";
    case rules::Band::unknown: break;
  }
  return "unknown";
}

std::string hhmm(int minute_of_day) { return fmt::format("{:02}:{:02}", minute_of_day / 60, minute_of_day % 60); }

}  // namespace shackd
