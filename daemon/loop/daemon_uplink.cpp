// The uplink (daemon/publish/uplink.hpp): the bridge's state as the site broker reports it on
// $SYS. The site's state for the central broker goes out with the publisher's (CyclePublisher).
#include "daemon/loop/daemon.hpp"

#include <fmt/format.h>

#include "daemon/publish/uplink.hpp"
#include "daemon/system/log.hpp"

namespace shackd {

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
