// The daemon's side of the metrics endpoint (daemon/metrics/exporter.hpp): the cycle's view,
// made only while somebody scrapes.
#include "daemon/loop/daemon.hpp"

namespace shackd {

// The metrics' face (MetricsExporter::after_cycle): the cycle's record, and the loop's live parts.
void Daemon::export_metrics(const CycleRecord& r, rules::SteadyTime now, std::int64_t wall) {
  metrics_.after_cycle(r, {mqtt_.relays(), energy_.meter(), intake_.broker().health(), stats_, alarms_.device_alarms()},
                       config_.metrics, config_.interval,
                       {.site_id = fleet_site_id(), .site_name = config_.site_name, .version = SHACKD_VERSION, .wall_s = wall,
                        .started_unix_s = started_unix_s_, .dry_run = config_.dry_run, .shadow = config_.shadow, .host = host_.present() ? &host_.health() : nullptr},
                       now);
}

}  // namespace shackd
