#pragma once
// The simulator's MQTT side: each switched load answers as a Tasmota relay would (so the
// physics hears what shackd switched), and zone temperatures go out as Tasmota SENSOR messages.
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <atomic>

#include "drivers/mqtt/client.hpp"
#include "sim/model.hpp"

namespace sim {

class MqttSite {
 public:
  // relays: load name -> Tasmota topic; sensors: zone name -> Tasmota topic; metered: the loads
  // whose relay also reports the load's power (tele/<topic>/SENSOR ENERGY.Power, a plug with a
  // meter), every sensor period.
  MqttSite(const std::string& uri, std::map<std::string, std::string> relays, std::map<std::string, std::string> sensors,
           SiteModel& model, std::mutex& model_mutex, double sensor_period_s, std::set<std::string> metered = {});
  ~MqttSite();
  // For latency measurements: the steady-clock time (ns) of the first relay command after mark().
  void mark() { first_command_after_mark_ns_ = 0; marked_ = true; }
  long long first_command_after_mark_ns() const { return first_command_after_mark_ns_; }
  // Relay faults: mute ignores commands and answers nothing (a relay that never confirms);
  // stuck ignores commands but answers with its real, unchanged state (a relay whose state is
  // not the commanded one: a welded or dead contact); ok undoes either.
  enum class RelayFault { ok, mute, stuck };
  void set_relay_fault(const std::string& load, RelayFault f);

 private:
  void run();
  std::map<std::string, std::string> relays_, sensors_;
  std::set<std::string> metered_;
  std::mutex faults_mutex_;
  std::map<std::string, RelayFault> relay_faults_;
  SiteModel& model_;
  std::mutex& mutex_;
  double sensor_period_s_;
  std::unique_ptr<drivers::mqtt::Client> client_;
  std::atomic<bool> stop_{false};
  bool announced_ = false;
  std::atomic<long long> first_command_after_mark_ns_{0};
  std::atomic<bool> marked_{false};
  std::thread thread_;
};

}  // namespace sim
