#include "daemon/system/notify.hpp"

#include <systemd/sd-daemon.h>

namespace shackd {

// Its result is not looked at: a notification that cannot be sent (no manager, a full socket)
// changes nothing in what the daemon does; the watchdog then sees the missed pings.
void notify(const std::string& message) { [[maybe_unused]] const int rc = sd_notify(0, message.c_str()); }

}  // namespace shackd
