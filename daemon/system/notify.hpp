#pragma once
// sd_notify without libsystemd (sd_notify(3) NOTES): one datagram to $NOTIFY_SOCKET. Does
// nothing when not started by systemd.
#include <chrono>
#include <string>

namespace shackd {

void notify(const std::string& message);  // "READY=1", "STATUS=...", "WATCHDOG=1", ...
// Half of WatchdogSec, when systemd's watchdog is on for us.
std::chrono::microseconds watchdog_interval();

}  // namespace shackd
