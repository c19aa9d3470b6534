#pragma once
// The controller's own health as a component of the daemon (issue 47; issue 44's side jobs): the
// reader and its alarms (daemon/system/host_health.hpp), what their changes are to say, and what
// was last published on <prefix>/host, owned here. Read before the rules (it may shed the loads:
// sysfs and /proc, no disk), told after the relays through the daemon's functions: the watch
// never sees the daemon.
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
  // <prefix>/host's document through `send`, when there is something to say and it changed since
  // it was last sent (or `everything`). `send` says whether the link took it: one refused (paho's
  // buffer full in a burst) goes again next time, unchanged or not.
  void publish(bool everything, const std::function<bool(const std::string& json)>& send);

 private:
  HostHealth health_{HostConfig{.enabled = false}};  // made from the config by sense()
  std::vector<rules::HostAlarmChange> changes_;      // sensed, not yet told
  std::string published_;                            // <prefix>/host as last sent
};

}  // namespace shackd
