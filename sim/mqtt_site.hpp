#pragma once
// The simulator's MQTT side: each switched load answers as its relay's firmware would (Tasmota,
// Shelly Gen1/Gen2, ESPHome or generic, sim/relay_device.hpp), so the physics hears what shackd
// switched, and zone temperatures go out in each sensor's own format.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <atomic>

#include "drivers/mqtt/client.hpp"
#include "drivers/mqtt/relay_protocol.hpp"
#include "drivers/mqtt/sensors.hpp"
#include "sim/model.hpp"

namespace sim {

class MqttSite {
 public:
  // A load's relay; metered: it also reports the load's power every sensor period (a plug with
  // a meter), where its protocol can.
  struct Relay {
    std::string load;
    drivers::mqtt::RelayConfig config;
    bool metered = false;
    // Its power-on setting (sim/relay_device.hpp default_power_on when empty): what it does when
    // the power comes back, and what it answers when asked.
    std::string power_on{};
  };
  // A zone's temperature sensor (the model's zone_temp_c by that name).
  struct Sensor {
    std::string zone;
    drivers::mqtt::SensorConfig config;
  };
  // `client`: the broker and its credentials.
  MqttSite(drivers::mqtt::ClientConfig client, std::vector<Relay> relays, std::vector<Sensor> sensors, SiteModel& model,
           std::mutex& model_mutex, double sensor_period_s);
  ~MqttSite();
  // For latency measurements: the steady-clock time (ns) of the first relay command after mark().
  void mark() { first_command_after_mark_ns_ = 0; marked_ = true; }
  long long first_command_after_mark_ns() const { return first_command_after_mark_ns_; }
  // Relay faults: mute ignores commands and answers nothing (a relay that never confirms);
  // stuck ignores commands but answers with its real, unchanged state (a relay whose state is
  // not the commanded one: a welded or dead contact); ok undoes either.
  enum class RelayFault { ok, mute, stuck };
  void set_relay_fault(const std::string& load, RelayFault f);
  // A power cut and its return, site-wide: each relay says it is offline (the broker's will for
  // it) and its load draws nothing; `seconds` later (0: at once) each comes back, started anew
  // (its uptime from 0), in the state its power-on setting gives (from the state it had at the
  // cut), and says so.
  void power_cut(double seconds = 0);
  // A relay's power-on setting as it holds it now (a set over MQTT changes it).
  std::string power_on(const std::string& load);

 private:
  void run();
  void handle(const drivers::mqtt::Event& e);
  void power_back();
  std::int64_t uptime_s(const std::string& load);
  std::vector<Relay> relays_;
  std::vector<Sensor> sensors_;
  std::mutex faults_mutex_;
  std::map<std::string, RelayFault> relay_faults_;
  std::map<std::string, std::string> power_on_;  // by load, guarded by faults_mutex_
  // Each relay's start (its uptime's origin), by load, and the power's return of a cut under way;
  // guarded by faults_mutex_. While the power is out, relays answer nothing.
  std::map<std::string, std::chrono::steady_clock::time_point> booted_;
  std::map<std::string, bool> on_at_cut_;
  std::optional<std::chrono::steady_clock::time_point> power_back_at_;
  SiteModel& model_;
  std::mutex& mutex_;
  double sensor_period_s_;
  std::unique_ptr<drivers::mqtt::Client> client_;
  std::atomic<bool> stop_{false};
  bool announced_ = false;
  int seen_trips_ = 0;  // the model's inverter trips already turned into a power cut (run's own)
  std::atomic<long long> first_command_after_mark_ns_{0};
  std::atomic<bool> marked_{false};
  std::thread thread_;
};

}  // namespace sim
