// Shadow mode's glue (issue 60): after the relays, the cycle's decisions and the relays' reported
// states to the comparison (daemon/shadow/shadow_watch.hpp), and what it says to the recorder
// (table shadow_disagreements), the publisher (<prefix>/shadow/<load>) and the log.
#include "daemon/loop/daemon.hpp"

#include <utility>

#include "daemon/recorder/recorder.hpp"
#include "daemon/shadow/shadow_watch.hpp"
#include "daemon/system/log.hpp"
#include "daemon/site/loads.hpp"
#include "rules/reason.hpp"

namespace shackd {

// The comparison's projection of the cycle's record: each load's decision and reason, and what
// its relay itself last said (never what shackd would command: it commands nothing).
void Daemon::shadow_step(const CycleRecord& r, std::int64_t wall_ms) {
  ShadowInputs in;
  in.wall_ms = wall_ms;
  for (const auto& l : r.loads()) {
    const auto& d = decision_for(r.decision, l);
    ShadowLoad s;
    s.id = l.id;
    s.name = l.name;
    s.would_on = d.on;
    s.reason_code = static_cast<int>(d.reason.code);
    s.reason = rules::describe(d.reason);
    if (const auto it = r.relay.find(l.id); r.relays && it != r.relay.end()) s.actual_on = it->second.observed;
    in.loads.push_back(std::move(s));
  }
  shadow_said(shadow_.after_cycle(in));
}

void Daemon::shadow_stop() {
  const std::int64_t wall_ms = clock_.wall_ms();
  shadow_said(shadow_.close_all(wall_ms));
  // What the retained documents said stood while shackd ran: cleared, so that nobody reads an old
  // disagreement as the site's now.
  for (const auto& l : core_.site().loads) publisher_.send(config_.mqtt.prefix + "/shadow/" + l.id, "", true, 1);
  publisher_.send(config_.mqtt.prefix + "/shadow", "", true, 1);
  // Home Assistant's shadow entities removed (an empty config, HA's MQTT discovery docs): a shackd
  // started again in shadow mode announces them again; one that commands has none.
  if (config_.mqtt.discovery) {
    const std::string node = config_.mqtt.discovery_prefix + "/binary_sensor/shackd_" + site_id_ + "/";
    publisher_.send(node + "shadow_mode/config", "", true, 1);
    for (const auto& l : core_.site().loads) publisher_.send(node + l.id + "_shadow/config", "", true, 1);
  }
}

void Daemon::shadow_said(const ShadowNews& news) {
  for (const auto& line : news.lines) log::info("{}", line);
  if (!news.rows.empty()) {
    if (auto* recorder = storage_.recorder()) {
      Records rec;
      rec.wall_s = clock_.wall_s();
      for (const auto& r : news.rows) rec.shadow[{r.load_id, r.start_ms}] = r;
      recorder->post(std::move(rec));
    }
  }
  for (const auto& t : news.topics) publisher_.send(config_.mqtt.prefix + "/shadow/" + t.load_id, t.payload, true, 1);
}

}  // namespace shackd
