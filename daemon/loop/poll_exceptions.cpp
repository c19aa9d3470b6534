#include "daemon/loop/poll_exceptions.hpp"

#include "daemon/system/log.hpp"

namespace shackd {

void log_poll_exceptions(const std::string& device, const std::vector<std::string>& errors, std::set<std::string>& told) {
  std::set<std::string> now;
  for (const auto& e : errors) {
    // A block's exception ("victron battery: 0x0A ..."); a timeout or a dead link is the device's
    // health, said when it changes.
    if (e.find(": 0x") != std::string::npos) now.insert(e);
  }
  for (const auto& e : now) {
    if (told.count(e)) continue;
    const bool service = e.find("0x0A") != std::string::npos;
    log::warn("{}{}", e,
              service ? std::string("; this unit id has no service of that kind (a wrong unit id, or the device is off): "
                                    "`shackd probe` lists what each unit id has")
                      : std::string());
  }
  for (const auto& e : told) {
    if (!now.count(e)) log::info("{}: no longer ({} answers that unit again)", e, device);
  }
  told = std::move(now);
}

}  // namespace shackd
