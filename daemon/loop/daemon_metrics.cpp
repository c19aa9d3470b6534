// The daemon's side of the metrics endpoint (daemon/metrics/exporter.hpp): the cycle's view,
// made only while somebody scrapes.
#include "daemon/loop/daemon.hpp"

namespace shackd {

// The metrics' projection of the cycle's record; the loop's figures as they are now (after the
// recorder's, later than the record's).
void Daemon::export_metrics(const CycleRecord& r, rules::SteadyTime now, std::int64_t wall) {
  if (!metrics_.due(config_.metrics, config_.interval, now, r.loads(), energy_.meter())) return;
  // Names assigned into the strings of last time: no allocation once the devices are known.
  auto& devices = metrics_.devices(r.devices.size());
  for (std::size_t i = 0; i < r.devices.size(); ++i) {
    devices[i].first.assign(r.devices[i].first);
    devices[i].second = &r.devices[i].second;
  }
  const CycleView view{r.snap, r.decision, r.state(), r.profiles(), r.loads(), mqtt_.relays(), energy_.meter(), devices,
                       intake_.broker().health(), stats_, alarms_.device_alarms()};
  metrics_.fill(view,
                {.site_id = fleet_site_id(), .site_name = config_.site_name, .version = SHACKD_VERSION, .wall_s = wall,
                 .started_unix_s = started_unix_s_, .dry_run = config_.dry_run, .host = host_.present() ? &host_.health() : nullptr},
                now);
}

}  // namespace shackd
