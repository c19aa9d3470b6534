#include "daemon/core/loop_stats.hpp"

#include <fmt/format.h>

namespace shackd {

const char* side_job_name(SideJob j) {
  switch (j) {
    case SideJob::reload: return "reload";
    case SideJob::poll: return "poll";
    case SideJob::mqtt_in: return "mqtt_in";
    case SideJob::journal: return "journal";
    case SideJob::alarms: return "alarms";
    case SideJob::charge_block: return "charge_block";
    case SideJob::events: return "records";  // not "events": <prefix>/loop has a top-level "events" count
    case SideJob::energy: return "energy";
    case SideJob::publish: return "publish";
    case SideJob::persist: return "persist";
    case SideJob::metrics: return "metrics";
    case SideJob::shadow: return "shadow";
    case SideJob::count: break;
  }
  return "?";
}

std::string loop_status(const LoopStats& s, bool safe_state) {
  std::string out;
  if (safe_state) {
    out = fmt::format(", SAFE STATE: every relay OFF, the database has not answered for {:.0f} s", s.store_unread_s);
  }
  if (const auto n = s.failures(); n > 0) out += fmt::format(", {} side-job failure(s), last {}", n, s.last_failure);
  if (s.mqtt_dropped > 0) out += fmt::format(", {} MQTT message(s) dropped", s.mqtt_dropped);
  if (s.broker_dropped > 0) {
    out += fmt::format(", the broker dropped {} message(s) past its queues (for all its clients)", s.broker_dropped);
  }
  // The store behind a slow card: the history waits, control does not.
  if (s.store_write_s >= 5) out += fmt::format(", store slow: a write has taken {:.0f} s", s.store_write_s);
  if (s.events_unstored + s.samples_unstored > 0) {
    out += fmt::format(", {} event(s) and {} telemetry sample(s) not stored", s.events_unstored, s.samples_unstored);
  }
  if (s.events_unsent > 0) out += fmt::format(", {} event(s) not sent", s.events_unsent);
  if (s.events_lost > 0) out += fmt::format(", {} event(s) lost (neither stored nor sent)", s.events_lost);
  if (const auto lost = s.publish_coalesced + s.publish_dropped; lost > 0) {
    out += fmt::format(", {} MQTT publication(s) lost", lost);
  }
  if (s.publishes_refused > 0) out += fmt::format(", {} MQTT publish(es) refused by the link", s.publishes_refused);
  if (s.publish_busy_s >= 5) out += fmt::format(", publishing slow: a publish has taken {:.0f} s", s.publish_busy_s);
  return out;
}

}  // namespace shackd
