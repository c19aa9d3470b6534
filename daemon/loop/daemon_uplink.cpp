// The uplink (daemon/publish/uplink.hpp): the site's state for the central broker, at its own
// slower pace, and the bridge's state as the site broker reports it on $SYS.
#include "daemon/loop/daemon.hpp"

#include <fmt/format.h>

#include "daemon/publish/uplink.hpp"
#include "daemon/system/log.hpp"

namespace shackd {

void Daemon::publish_uplink_state(const CycleView& v, rules::SteadyTime now, bool everything) {
  if (!config_.uplink.enabled) return;
  if (!everything && uplink_state_at_ && now - *uplink_state_at_ < config_.uplink.state_interval) return;
  uplink_state_at_ = now;
  // Retained, so that a consumer that starts later (or the central broker after a restart, from
  // the bridge's queue) has the site's last state at once.
  mqtt_publish(uplink_topic(config_.mqtt.prefix, fleet_site_id(), "state"),
               uplink_state_json(v, fleet_site_id(), config_.site_name, clock_.wall_s()), true);
}

bool Daemon::handle_bridge_state(const std::string& topic, const std::string& payload) {
  if (!topic.starts_with("$SYS/")) return false;
  std::string why;
  const auto wall = clock_.wall_s();
  const auto news = bridge_state(topic, payload, wall, why, mqtt_health_.bridges,
                                 config_.uplink.bridge.empty() ? "shackd-" + fleet_site_id() : config_.uplink.bridge);
  if (!why.empty()) log::limited("uplink state", log::Level::warn, "uplink: " + why);
  if (!news) return true;
  if (news->first) {
    log::info("uplink: bridge {} is {}", news->bridge, news->connected ? "connected" : "not connected");
    if (!news->connected) {
      event("alarm", "", {rules::ReasonCode::none}, "uplink_down: bridge " + news->bridge + " is not connected", wall);
    }
  } else if (news->changed) {
    // Told as events: the site's history says when its link to the fleet was down, and the
    // events of the outage reach the central broker from the bridge's queue once it is back.
    log::write(news->connected ? log::Level::info : log::Level::warn,
               fmt::format("uplink: bridge {} {}", news->bridge, news->connected ? "connected again" : "lost its connection"));
    event(news->connected ? "alarm_end" : "alarm", "", {rules::ReasonCode::none},
          "uplink_" + std::string(news->connected ? "up" : "down") + ": bridge " + news->bridge +
              (news->connected ? " connected again" : " lost its connection"),
          wall);
  }
  return true;
}

}  // namespace shackd
