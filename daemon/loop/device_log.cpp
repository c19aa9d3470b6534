#include "daemon/loop/device_log.hpp"

#include <fmt/format.h>

#include "daemon/loop/poll_exceptions.hpp"
#include "daemon/loop/poller.hpp"
#include "daemon/system/log.hpp"

namespace shackd {

// Dropped readings, a device that stopped or started answering, its map's changes.
std::vector<DeviceLog::Alarm> DeviceLog::tell(std::vector<PollNews> news) {
  std::vector<Alarm> alarms;
  for (auto& p : news) {
    for (const auto& inv : p.invalid) {
      log::limited(p.name + " dropped " + inv.name, log::Level::warn, fmt::format("{}: dropped {}: {}", p.name, inv.name, inv.why));
    }
    const auto& h = p.health;
    const bool was_ok = ok_.count(p.name) ? ok_[p.name] : true;
    const bool ok = h.consecutive_failures == 0 && h.last_success.has_value();
    if (was_ok != ok) {
      std::string text = p.name + (ok ? std::string(": reading again") : ": not answering: " + h.last_error);
      log::write(ok ? log::Level::info : log::Level::warn, text);
      alarms.push_back({!ok, std::move(text)});
    }
    log_poll_exceptions(p.name, p.errors, told_exceptions_[p.name]);
    log_map_changes(p.name, health_[p.name], h, told_unavailable_[p.name]);
    health_[p.name] = h;
    ok_[p.name] = ok;
  }
  return alarms;
}

}  // namespace shackd
