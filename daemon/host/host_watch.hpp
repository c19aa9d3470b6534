#pragma once
// The controller's own health as a component of the daemon (issue 47; issue 44's side jobs): the
// reader and its alarms (daemon/system/host_health.hpp) and what their changes are to say, owned
// here. The files are read on a thread of its own, one read at a time (issue 56: a root with
// 20,000 eMMC entries read on the loop's thread made every cycle 368 ms): the loop starts a read
// when its interval has passed and takes what a finished one read at a later cycle, never waiting
// for it; the alarms' hysteresis runs on the loop's clock as it takes it. Sensed before the rules
// (it may shed the loads), told after the relays through the daemon's functions: the watch never
// sees the daemon. <prefix>/host is the publisher's (daemon/publish/cycle_publisher.hpp): the core
// hands it a copy of health().
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/reloader/one_job.hpp"
#include "daemon/system/host_health.hpp"
#include "rules/host_health.hpp"
#include "rules/time.hpp"

namespace shackd {

class HostWatch {
 public:
  HostWatch() = default;
  ~HostWatch() { job_.join(); }  // a read is a few small files, bounded (drivers/host/pi_health.hpp)
  HostWatch(const HostWatch&) = delete;
  HostWatch& operator=(const HostWatch&) = delete;

  // Takes what a finished read read, and starts the next once `config`'s interval has passed since
  // the last began (a reload that changes `host:` starts the reader afresh; a read of the old
  // config under way is left to end and not taken). Never waits; what changed waits for tell().
  void sense(const HostConfig& config, rules::SteadyTime now);
  // True once after the first read of a config found the sources: Home Assistant's discovery
  // names the controller's entities by them, and the reader found them a cycle after the start.
  bool take_found() { return std::exchange(found_, false); }
  // Waits, at most `bound`, for a read under way (tests).
  bool settle(std::chrono::milliseconds bound) const { return job_.settle(bound); }
  // While the loads are shed for the controller's heat: what the rules get (Snapshot).
  std::optional<rules::Snapshot::ControllerHeat> shedding() const { return health_.shedding(); }
  bool present() const { return health_.present(); }
  const drivers::host::HostSources& sources() const { return health_.sources(); }
  const HostHealth& health() const { return health_; }
  // After the relays: each alarm raised or cleared since the last tell, as a log line and through
  // `alarm` (raised, its text); problems reading a source, as limited log lines.
  void tell(const std::function<void(bool raised, const std::string& text)>& alarm);

 private:
  struct Read {
    std::uint64_t generation = 0;  // of the config it was made for
    drivers::host::HostSources sources;
    drivers::host::HostReading reading;
  };
  HostHealth health_{HostConfig{.enabled = false}};  // made from the config by sense()
  std::vector<rules::HostAlarmChange> changes_;      // sensed, not yet told
  std::uint64_t generation_ = 0;                     // a new config, a new generation
  std::optional<rules::SteadyTime> started_at_;      // the last read began
  bool found_ = false;                               // the sources found, not yet said (take_found)
  JobWith<Read> job_{"host-health"};                            // after what its work reads: joined first
};

}  // namespace shackd
