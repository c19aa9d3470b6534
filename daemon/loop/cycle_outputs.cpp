#include "daemon/loop/cycle_outputs.hpp"

#include <algorithm>
#include <utility>

#include "daemon/host/host_watch.hpp"
#include "daemon/intake/mqtt_intake.hpp"
#include "daemon/loop/alarm_watch.hpp"
#include "daemon/loop/mqtt_links.hpp"
#include "daemon/metrics/exporter.hpp"
#include "daemon/miners/fleet.hpp"
#include "daemon/publish/publisher.hpp"
#include "daemon/recorder/energy_side.hpp"
#include "daemon/vocab/cycle_facts.hpp"

namespace shackd {

void publish_cycle(Publisher& publisher, const CycleRecordPtr& record, bool safe_state, const CycleBeside& b) {
  const Config& config = b.config;
  // The controller's health found a cycle after the start (its reader's thread): Home Assistant is
  // told of its entities again.
  if (b.host.take_found()) publisher.send_everything();
  const bool everything = !safe_state && publisher.take_everything();
  if (!b.mqtt.connected()) return;
  CycleFacts f;
  f.prefix = config.mqtt.prefix;
  f.record = record;
  f.energy_day = b.energy.meter().day();
  f.energy = b.energy.meter().totals();
  f.mqtt = b.intake.broker().health();
  f.device_alarms = b.alarms.device_alarms();
  if (b.host.present()) f.host = b.host.health();  // <prefix>/host's document, rendered by the publisher
  f.uplink = {config.uplink.enabled, config.uplink.state_interval, b.fleet_site_id, config.site_name};
  f.everything = everything;
  if (everything && config.mqtt.discovery) {
    DiscoveryOptions& d = f.discovery.emplace();
    d = DiscoveryOptions{.prefix = config.mqtt.prefix,
                         .discovery_prefix = config.mqtt.discovery_prefix,
                         .node_id = "shackd_" + b.site_id,
                         .site_name = config.site_name,
                         .version = SHACKD_VERSION,
                         .expire_after_s = std::max(10, static_cast<int>(rules::to_seconds(
                                                            record->profiles().rules.site.electrical_stale_after))),
                         .devices = {},
                         .settings = b.intake.offered(),
                         .miners = {}};
    for (const auto& device : record->devices) d.devices.push_back(device.first);
    const auto& hs = b.host.sources();
    d.host = {.flags = !hs.throttled.empty() || !hs.volt_alarm.empty(), .temperature = !hs.soc_temp.empty(),
              .storage = !hs.emmc.empty(), .writes = !hs.proc_io.empty()};
    for (const auto& l : record->loads()) {
      const auto* miner = b.miners.config(l.id);
      if (!miner) continue;
      const auto poll_s = static_cast<int>(miner->poll.count());
      d.miners.push_back({l.id, l.name, std::max(30, 3 * poll_s)});
    }
  }
  if (f.discovery) {
    f.discovery->shadow = config.shadow;  // its entities (issue 60)
    f.discovery->candidate = !config.candidate.empty();
  }
  publisher.post(std::move(f));
}

void export_metrics(MetricsExporter& metrics, const CycleRecord& r, rules::SteadyTime now, std::int64_t wall_s,
                    const CycleBeside& b) {
  const Config& config = b.config;
  metrics.after_cycle(r, {b.mqtt.relays(), b.energy.meter(), b.intake.broker().health(), b.stats, b.alarms.device_alarms()},
                      config.metrics, config.interval,
                      {.site_id = b.fleet_site_id, .site_name = config.site_name, .version = SHACKD_VERSION, .wall_s = wall_s,
                       .started_unix_s = b.started_unix_s, .dry_run = config.dry_run, .shadow = config.shadow,
                       .host = b.host.present() ? &b.host.health() : nullptr},
                      now);
}

}  // namespace shackd
