#pragma once
// systemd's notification protocol (READY=1, STATUS=..., WATCHDOG=1) through libsystemd's
// sd_notify(3): one datagram to $NOTIFY_SOCKET. Does nothing when not started by systemd.
#include <string>

namespace shackd {

void notify(const std::string& message);  // "READY=1", "STATUS=...", "WATCHDOG=1", ...

}  // namespace shackd
