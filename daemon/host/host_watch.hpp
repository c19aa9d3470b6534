#pragma once
// The controller's own health as a component of the daemon (issue 47; issue 44's side jobs): the
// reader and its alarms (daemon/system/host_health.hpp) and what their changes are to say, owned
// here. Read before the rules (it may shed the loads: sysfs and /proc, no disk), told after the
// relays through the daemon's functions: the watch never sees the daemon. <prefix>/host is the
// publisher's (daemon/publish/cycle_publisher.hpp): the core hands it a copy of health().
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "daemon/system/host_health.hpp"
#include "rules/host_health.hpp"
#include "rules/time.hpp"

namespace shackd {

class HostWatch {
 public:
  // Reads on `config`'s own interval (a reload that changes `host:` starts the reader afresh);
  // what changed waits for tell().
  void sense(const HostConfig& config, rules::SteadyTime now);
  // While the loads are shed for the controller's heat: what the rules get (Snapshot).
  std::optional<rules::Snapshot::ControllerHeat> shedding() const { return health_.shedding(); }
  bool present() const { return health_.present(); }
  const drivers::host::HostSources& sources() const { return health_.sources(); }
  const HostHealth& health() const { return health_; }
  // After the relays: each alarm raised or cleared since the last tell, as a log line and through
  // `alarm` (raised, its text); problems reading a source, as limited log lines.
  void tell(const std::function<void(bool raised, const std::string& text)>& alarm);

 private:
  HostHealth health_{HostConfig{.enabled = false}};  // made from the config by sense()
  std::vector<rules::HostAlarmChange> changes_;      // sensed, not yet told
};

}  // namespace shackd
