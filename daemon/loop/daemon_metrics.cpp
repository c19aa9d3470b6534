// The daemon's side of the metrics endpoint (daemon/metrics/exporter.hpp): the cycle's view,
// made only while somebody scrapes.
#include "daemon/loop/daemon.hpp"

namespace shackd {

void Daemon::export_metrics(rules::SteadyTime now, std::int64_t wall) {
  if (!metrics_.due(config_.metrics, config_.interval, now, core_.site().loads, energy_.meter())) return;
  // Names assigned into the strings of last time: no allocation once the devices are known.
  auto& devices = metrics_.devices(core_.devices().devices().size());
  for (std::size_t i = 0; i < core_.devices().devices().size(); ++i) {
    devices[i].first.assign(core_.devices().devices()[i]->name());
    devices[i].second = &device_log_.of(core_.devices().devices()[i]->name());
  }
  const CycleView view{core_.snapshot(), core_.decision(), core_.state(), core_.site().profiles, core_.site().loads, mqtt_.relays(), energy_.meter(), devices, intake_.broker().health(), stats_,
                       alarms_.device_alarms()};
  metrics_.fill(view,
                {.site_id = fleet_site_id(), .site_name = config_.site_name, .version = SHACKD_VERSION, .wall_s = wall,
                 .started_unix_s = started_unix_s_, .dry_run = config_.dry_run, .host = host_.present() ? &host_.health() : nullptr},
                now);
}

}  // namespace shackd
