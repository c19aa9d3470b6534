#include "daemon/publish/render.hpp"

#include <fmt/format.h>

namespace shackd {

std::string_view source_name(rules::VoltageSource s) {
  switch (s) {
    case rules::VoltageSource::battery_monitor: return "battery_monitor";
    case rules::VoltageSource::gx_system: return "gx_system";
    case rules::VoltageSource::solark: return "solark";
    case rules::VoltageSource::none: break;
  }
  return "none";
}

std::string_view source_label(rules::VoltageSource s) {
  switch (s) {
    case rules::VoltageSource::battery_monitor: return "the battery monitor's voltage";
    case rules::VoltageSource::gx_system: return "the GX system's battery voltage";
    case rules::VoltageSource::solark: return "the Sol-Ark's battery voltage";
    case rules::VoltageSource::none: break;
  }
  return "no source";
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
