#pragma once
// The controller's own health, for the loop (issue 47): the reader (drivers/host/pi_health.hpp)
// every `interval`, the alarms with their hysteresis (rules/host_health.hpp), what goes to MQTT
// (<prefix>/host), Home Assistant and the metrics, the line in `status`, and whether the loads are
// shed. On a machine without the Pi's sources (a PC, a container) only the process's own writes
// are watched, and nothing of the Pi is published.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "drivers/host/pi_health.hpp"
#include "rules/host_health.hpp"
#include "rules/snapshot.hpp"

namespace shackd {

// host: in the config.
struct HostConfig {
  bool enabled = true;
  std::string root = "/";  // where /sys and /proc are: a test's fake tree
  rules::HostLimits limits{};
  std::chrono::seconds interval{10};
  bool operator==(const HostConfig&) const = default;
};

class HostHealth {
 public:
  // `discover`: find the sources now, on this thread (false: they come with the first take(), from
  // a reader on a thread of its own: daemon/host/host_watch.hpp).
  explicit HostHealth(HostConfig c = {}, bool discover = true);
  // Reads when `interval` has passed since the last read (the first call reads at once), on this
  // thread; the alarms that were raised or cleared by it.
  std::vector<rules::HostAlarmChange> sample(rules::SteadyTime now);
  // What a reader read elsewhere, taken at `now`: the alarms that were raised or cleared by it.
  std::vector<rules::HostAlarmChange> take(drivers::host::HostSources sources, drivers::host::HostReading reading,
                                           rules::SteadyTime now);
  bool discovered() const { return discovered_; }
  // Anything to say: a source of the Pi's own (its flags, its SoC's temperature, an eMMC's wear),
  // or this process's writes (any Linux).
  bool present() const { return sources_.any() || !sources_.proc_io.empty(); }
  const drivers::host::HostSources& sources() const { return sources_; }
  const drivers::host::HostReading& reading() const { return reading_; }
  const rules::HostHealthState& state() const { return state_; }
  const HostConfig& config() const { return config_; }
  // While the loads are shed for the controller's heat: what the rules get (Snapshot).
  std::optional<rules::Snapshot::ControllerHeat> shedding() const;
  // <prefix>/host: {"under_voltage":false,"throttled":false,"soc_temp_c":48.3,...,"alarms":[...]}.
  std::string json() const;
  // Changes whenever what json() renders may have changed (a take, a new HostHealth), unique among
  // every HostHealth of the process; a copy keeps it. The publisher renders <prefix>/host again
  // only when it moved (issue 57: rendering it each cycle to compare was 26k instructions a cycle).
  std::uint64_t version() const { return version_; }
  // Problems reading a source, new since the last call (a file that went away, malformed text):
  // each said once while it lasts, whatever the file's bytes say meanwhile; printable.
  std::vector<std::string> take_problems();

 private:
  HostConfig config_;
  drivers::host::HostSources sources_;
  drivers::host::HostReading reading_;
  rules::HostHealthState state_;
  std::optional<rules::SteadyTime> read_at_;
  bool discovered_ = false;
  std::vector<std::string> problems_;
  std::vector<std::string> told_;  // the sources whose problem was said, while it lasts
  std::uint64_t version_ = next_version();
  static std::uint64_t next_version();
};

// `status`'s line from <prefix>/host as the daemon published it: "controller: 48.3 °C, supply ok,
// not throttled, ..." or "controller: ALARM ..."; nothing for a payload that is not such a document.
std::vector<std::string> host_status_lines(const std::string& payload);

}  // namespace shackd
