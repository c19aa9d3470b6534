#pragma once
// What the publisher and the metrics exporter are handed beside the cycle's record (issue 57: out
// of Daemon). Each builds its own projection of the record; what is not in it (today's energy, the
// broker's health, the devices' alarms, the controller's health, the settings offered, the
// miners' APIs, the site's names) lives in other components, which never include each other, so
// the loop joins them here, reading each where it lives. No JSON here: the publisher renders on
// its own thread (issue 44), the exporter only while somebody scrapes.
#include <cstdint>
#include <string>

#include "daemon/config/config.hpp"
#include "daemon/core/cycle_record.hpp"
#include "daemon/core/loop_stats.hpp"
#include "rules/time.hpp"

namespace shackd {

class AlarmWatch;
class EnergySide;
class HostWatch;
class MetricsExporter;
class MinerFleet;
class MqttIntake;
class MqttLinks;
class Publisher;

struct CycleBeside {
  const Config& config;
  const std::string& site_id;        // Home Assistant's ids (SafeStart::site_id)
  const std::string& fleet_site_id;  // site.id, else site_id
  std::int64_t started_unix_s = 0;
  const MqttLinks& mqtt;
  const MqttIntake& intake;
  const AlarmWatch& alarms;
  HostWatch& host;  // its sources found once: Home Assistant is told of its entities again
  const MinerFleet& miners;
  const EnergySide& energy;
  const LoopStats& stats;
};

// The cycle's record and what only the publisher says beside it, posted to its thread; nothing
// while the link is down. `safe_state`: before the stored state is taken, the loop's figures and
// states only; a request to send everything (Home Assistant's discovery) waits for the loads.
void publish_cycle(Publisher& publisher, const CycleRecordPtr& record, bool safe_state, const CycleBeside& b);

// The metrics' face (MetricsExporter::after_cycle): the cycle's record, and the loop's live parts.
void export_metrics(MetricsExporter& metrics, const CycleRecord& record, rules::SteadyTime now, std::int64_t wall_s,
                    const CycleBeside& b);

}  // namespace shackd
