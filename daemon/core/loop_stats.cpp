#include "daemon/core/loop_stats.hpp"

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
    case SideJob::count: break;
  }
  return "?";
}

}  // namespace shackd
