// The daemon's side of the controller's own health (daemon/host/host_watch.hpp): <prefix>/host.
#include "daemon/loop/daemon.hpp"

namespace shackd {

void Daemon::publish_host(bool everything) {
  host_.publish(everything, [this](const std::string& j) { return mqtt_publish(config_.mqtt.prefix + "/host", j, true); });
}

}  // namespace shackd
