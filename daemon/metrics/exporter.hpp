#pragma once
// The metrics endpoint as a component of the daemon (issue 44, item 2: "the metrics exporter"):
// the server, the servers being retired, the collector and its frames, and when the loop last saw
// a scrape, owned here. The daemon hands it the config in force and, once a cycle after the
// relays, the cycle's view, which is asked for only while somebody scrapes: an endpoint nobody
// scrapes costs the loop a look at a counter. Nothing here waits on a scraper (the server's own
// thread answers them; a retired server is shut down on another).
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/core/cycle_record.hpp"
#include "daemon/metrics/collect.hpp"
#include "daemon/metrics/frame.hpp"
#include "daemon/metrics/server.hpp"
#include "daemon/vocab/cycle_view.hpp"
#include "daemon/site/energy.hpp"
#include "daemon/site/loads.hpp"
#include "drivers/thread/deadline.hpp"
#include "drivers/thread/worker.hpp"
#include "rules/time.hpp"

namespace shackd {

struct MetricsConfig;  // daemon/config/config.hpp: `metrics:`

class MetricsExporter {
 public:
  using Devices = std::vector<std::pair<std::string, const drivers::DeviceHealth*>>;

  // Starts the endpoint `config` asks for, unless it is off or already serving. One that cannot
  // listen, or whose token file cannot be read, is tried again a minute later (due()).
  // `interval`: the loop's, for how long a scrape that finds the loop idle waits for a frame.
  void start(const MetricsConfig& config, std::chrono::milliseconds interval, rules::SteadyTime now);
  // A reload that changed `metrics:` or rotated the token: the old endpoint retired, `config`'s started.
  void restart(const MetricsConfig& config, std::chrono::milliseconds interval, rules::SteadyTime now);
  // `token`, read from the token file `config` names, is another than the endpoint serves with
  // (rotated in place).
  bool token_changed(const MetricsConfig& config, const std::optional<std::string>& token) const;
  // Stops the endpoint listening at once and lets another thread wait for its connections: a
  // reload never waits on a scraper.
  void retire();
  // The daemon's last step: retired, and every retiring endpoint waited for (bounded by the
  // server's own time-outs).
  void stop();
  // The same within what is left of `deadline` (issue 57: the stop's face): a retiring endpoint
  // still waiting for a scraper then is left behind, with the server it owns.
  drivers::thread::Stopped stop(const drivers::thread::Deadline& deadline);

  // Each cycle after the relays: each load's energy counted (frame or not), a failed start
  // retried when due, and whether a frame is to be filled this cycle (somebody scraped lately).
  bool due(const MetricsConfig& config, std::chrono::milliseconds interval, rules::SteadyTime now,
           const std::vector<LoadRef>& loads, const EnergyMeter& energy);
  // Room for `n` devices' names and health, for the view: reused, so no allocation once the
  // devices are known. Only after due() said true.
  Devices& devices(std::size_t n) {
    devices_.resize(n);
    return devices_;
  }
  // What the metrics read beside the cycle's record: the loop's live parts, as they are after the
  // recorder's turn (later than the record's).
  struct Beside {
    const drivers::mqtt::RelayManager* relays;  // null when MQTT is not started
    const EnergyMeter& energy;
    const MqttHealth& mqtt;
    const LoopStats& loop;
    const DeviceAlarmWatch& device_alarms;
  };
  // The exporter's face (issue 57): after each cycle, due() and, while somebody scrapes, its
  // projection of the cycle's record (the view) filled into a frame.
  void after_cycle(const CycleRecord& record, const Beside& beside, const MetricsConfig& config,
                   std::chrono::milliseconds interval, const metrics::SiteInfo& site, rules::SteadyTime now);
  // The cycle's frame filled from `view` and handed to the endpoint. Only after due() said true.
  void fill(const CycleView& view, const metrics::SiteInfo& site, rules::SteadyTime now);

  // The endpoint's port while it serves (0: any free port was asked for); nullopt: off.
  std::optional<int> port() const { return server_ ? std::optional<int>(server_->port()) : std::nullopt; }
  // Frames the endpoint was handed.
  std::optional<std::uint64_t> frames() const {
    return server_ ? std::optional<std::uint64_t>(server_->frames()) : std::nullopt;
  }
  // Scrapes that came to the endpoint (each asks for fresh figures).
  std::optional<std::uint64_t> asked() const {
    return server_ ? std::optional<std::uint64_t>(server_->asked()) : std::nullopt;
  }

 private:
  std::unique_ptr<metrics::Server> server_;
  // Servers being shut down (retire), each on a "metrics-retire" thread that owns it: before, a
  // std::async future, whose destructor always waits, so that no stop could leave one behind.
  std::vector<drivers::thread::Worker> retiring_;
  metrics::Collector collector_;
  metrics::FramePool frames_;  // filled in turn (daemon/metrics/frame.hpp)
  std::uint64_t asked_seen_ = 0;  // the server's asked() as last seen
  rules::SteadyTime fill_until_{};  // frames are filled until then: a scrape came lately
  Devices devices_;  // the view's, reused
  std::optional<rules::SteadyTime> retry_at_;  // while the endpoint cannot listen
};

}  // namespace shackd
