#pragma once
// The site's metrics, taken from one cycle's view on the loop's thread into a frame (plain values,
// copied; daemon/metrics/frame.hpp): the server renders them on its own thread, so a scrape never
// reads the loop's state.
// Names follow Prometheus' naming practices (prometheus.io/docs/practices/naming/): the shackd_
// prefix, base units in the name (volts, watts, seconds, joules, celsius, bytes, ratio), counters
// ending in _total. Labels carry only bounded values (ids, codes, bands), never free text or a
// number, so the series of a site stay fixed while it runs.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/metrics/frame.hpp"
#include "daemon/vocab/cycle_view.hpp"
#include "daemon/system/host_health.hpp"

namespace shackd::metrics {

struct SiteInfo {
  // Views of the daemon's own strings, which outlive a collect().
  std::string_view site_id;    // stable across renames (daemon/store/site_identity)
  std::string_view site_name;
  std::string_view version;
  std::int64_t wall_s = 0;  // the cycle's wall time, for "no state for N minutes" alerts
  std::int64_t started_unix_s = 0;  // when the process started (process_start_time_seconds)
  bool dry_run = false;
  bool shadow = false;  // shadow mode (issue 60): decisions beside another controller, nothing switched
  const HostHealth* host = nullptr;  // the controller's own health, where it has the Pi's sources
};

// Kept from cycle to cycle, their room reused: labels that had to be cleaned or joined, and each
// load's relay status (looked up once a fill, not once per family).
struct LabelScratch {
  std::string a, b;
  std::vector<const drivers::mqtt::RelayStatus*> relays;
};

class Collector {
 public:
  // Each load's energy since this process started, in joules: the day's meter (EnergyMeter)
  // restarts at midnight, a counter must not (a restart of the process is a counter reset, which
  // rate() and increase() expect). Every cycle, frame or not: a day's last minutes are counted
  // even when nobody scrapes before midnight.
  void count_energy(const std::vector<LoadRef>& loads, const EnergyMeter& energy);
  // Fills `out` in place (FrameWriter): what it held is reused.
  void collect(const CycleView& v, const SiteInfo& site, rules::SteadyTime now, std::vector<Family>& out);

 private:
  LabelScratch scratch_;
  std::string day_;
  std::map<std::string, double> last_wh_;  // by load state key, the day's total as last seen
  std::map<std::string, double> joules_;   // by load id
};

}  // namespace shackd::metrics
