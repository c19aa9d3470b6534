#pragma once
// What the loop tells systemd (sd_notify(3): READY=1, WATCHDOG=1, STATUS=..., RELOADING=1,
// STOPPING=1), or a test's seam when it gives one. READY=1 goes with the first ping: the first
// cycle that decided and commanded the relays, or the safe state's all-OFF (daemon_open.cpp).
#include <functional>
#include <string>
#include <utility>

#include "daemon/system/notify.hpp"

namespace shackd {

class SystemdLine {
 public:
  using Seam = std::function<void(const std::string&)>;
  explicit SystemdLine(Seam seam = {}) : seam_(std::move(seam)) {}
  void say(const std::string& message) {
    if (seam_) seam_(message);
    else notify(message);
  }
  // The loop is alive and the site in a commanded state: READY=1 the first time, then the ping.
  void alive() {
    if (!std::exchange(ready_, true)) say("READY=1");
    say("WATCHDOG=1");
  }

 private:
  Seam seam_;
  bool ready_ = false;
};

}  // namespace shackd
