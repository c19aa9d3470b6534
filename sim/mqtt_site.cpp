#include "sim/mqtt_site.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "sim/relay_device.hpp"

namespace sim {

MqttSite::MqttSite(drivers::mqtt::ClientConfig client, std::vector<Relay> relays, std::vector<Sensor> sensors,
                   SiteModel& model, std::mutex& model_mutex, double sensor_period_s)
    : relays_(std::move(relays)), sensors_(std::move(sensors)), model_(model), mutex_(model_mutex),
      sensor_period_s_(sensor_period_s) {
  // Each relay "started" an hour before the simulator: a restart of shackd alone finds them up long.
  const auto booted = std::chrono::steady_clock::now() - std::chrono::hours(1);
  for (const auto& r : relays_) {
    booted_[r.load] = booted;
    power_on_[r.load] = r.power_on.empty() ? default_power_on(r.config) : r.power_on;
    if (!valid_power_on(r.config, power_on_[r.load])) {
      throw std::runtime_error("relay for load '" + r.load + "': power-on setting '" + power_on_[r.load] + "' is not one " +
                               drivers::mqtt::protocol_name(r.config.protocol) + " has");
    }
  }
  client.keepalive = std::chrono::seconds(10);
  client_ = std::make_unique<drivers::mqtt::Client>(client);
  for (const auto& r : relays_) {
    for (const auto& t : device_subscriptions(r.config)) client_->subscribe(t);
  }
  client_->start();
  thread_ = std::thread([this] { run(); });
}

MqttSite::~MqttSite() {
  stop_ = true;
  thread_.join();
  client_->shutdown(std::chrono::milliseconds(500));
}

void MqttSite::set_relay_fault(const std::string& load, RelayFault f) {
  if (std::none_of(relays_.begin(), relays_.end(), [&](const Relay& r) { return r.load == load; })) {
    throw std::runtime_error("no relay for load '" + load + "'");
  }
  std::lock_guard l(faults_mutex_);
  relay_faults_[load] = f;
}

std::string MqttSite::power_on(const std::string& load) {
  std::lock_guard l(faults_mutex_);
  const auto it = power_on_.find(load);
  if (it == power_on_.end()) throw std::runtime_error("no relay for load '" + load + "'");
  return it->second;
}

std::int64_t MqttSite::uptime_s(const std::string& load) {
  std::lock_guard l(faults_mutex_);
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - booted_[load]).count();
}

void MqttSite::power_cut(double seconds) {
  for (const auto& r : relays_) {
    const auto will = device_goodbye(r.config);
    if (will) client_->publish(will->topic, will->payload, 1, true);
  }
  {
    std::lock_guard l(mutex_);
    std::lock_guard f(faults_mutex_);
    for (const auto& r : relays_) {
      auto& load = model_.loads[r.load];
      on_at_cut_[r.load] = load.on;
      load.on = false;  // no power, no draw
    }
    power_back_at_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
  }
  std::printf("power cut for %.0f s\n", seconds);
  std::fflush(stdout);
  if (seconds <= 0) power_back();
}

void MqttSite::power_back() {
  const auto now = std::chrono::steady_clock::now();
  for (const auto& r : relays_) {
    std::string setting;
    bool was_on = false;
    {
      std::lock_guard l(faults_mutex_);
      setting = power_on_[r.load];
      was_on = on_at_cut_[r.load];
      booted_[r.load] = now;  // started anew
    }
    bool on = false;
    {
      std::lock_guard l(mutex_);
      auto& load = model_.loads[r.load];
      load.on = powers_up_on(r.config, setting, was_on);
      on = load.on;
    }
    std::printf("relay %s powered up %s (power-on setting %s)\n", r.load.c_str(), on ? "ON" : "OFF", setting.c_str());
    std::fflush(stdout);
    const auto hello = device_hello(r.config, on);
    for (std::size_t i = 0; i < hello.size(); ++i) client_->publish(hello[i].topic, hello[i].payload, 1, i == 0);
  }
  std::lock_guard l(faults_mutex_);
  power_back_at_.reset();
}

void MqttSite::handle(const drivers::mqtt::Event& e) {
  {
    std::lock_guard l(faults_mutex_);
    if (power_back_at_) return;  // no relay has power
  }
  for (const auto& r : relays_) {
    {
      bool on = false;
      {
        std::lock_guard l(mutex_);
        on = model_.loads[r.load].on;
      }
      if (const auto replies = device_state_request(r.config, e.topic, e.payload, on, uptime_s(r.load))) {
        {
          std::lock_guard l(faults_mutex_);
          if (relay_faults_[r.load] == RelayFault::mute) continue;
        }
        for (const auto& o : *replies) client_->publish(o.topic, o.payload, 1, false);
        continue;
      }
    }
    {
      // Its power-on setting asked or set: answered whatever the switching fault (the relay
      // firmware's settings are not its contact).
      std::string setting;
      {
        std::lock_guard l(faults_mutex_);
        setting = power_on_[r.load];
      }
      if (const auto replies = device_power_on_request(r.config, e.topic, e.payload, setting)) {
        {
          std::lock_guard l(faults_mutex_);
          if (relay_faults_[r.load] == RelayFault::mute) continue;
          power_on_[r.load] = setting;
        }
        for (const auto& o : *replies) client_->publish(o.topic, o.payload, 1, false);
        continue;
      }
    }
    bool was_on = false;
    {
      std::lock_guard l(mutex_);
      was_on = model_.loads[r.load].on;
    }
    const auto command = device_command(r.config, e.topic, e.payload, was_on);
    if (!command) continue;
    if (marked_.exchange(false)) {
      first_command_after_mark_ns_ =
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
    }
    RelayFault fault = RelayFault::ok;
    {
      std::lock_guard l(faults_mutex_);
      if (const auto it = relay_faults_.find(r.load); it != relay_faults_.end()) fault = it->second;
    }
    if (fault == RelayFault::mute) continue;
    bool on = command->on;
    {
      std::lock_guard l(mutex_);
      if (fault == RelayFault::stuck) on = model_.loads[r.load].on;
      else model_.loads[r.load].on = on;
    }
    for (const auto& o : command->replies) client_->publish(o.topic, o.payload, 1, false);
    for (const auto& o : device_state(r.config, on, on != was_on)) client_->publish(o.topic, o.payload, 1, false);
  }
}

void MqttSite::run() {
  auto next_sensor = std::chrono::steady_clock::now();
  while (!stop_) {
    bool back = false;
    {
      std::lock_guard l(faults_mutex_);
      back = power_back_at_ && std::chrono::steady_clock::now() >= *power_back_at_;
    }
    if (back) power_back();
    // The inverter tripped (SiteModel::inverter_continuous_w): for its relays a power cut, as long
    // as its output stays off.
    int trips = 0;
    double restart_s = 0;
    {
      std::lock_guard l(mutex_);
      trips = model_.trips;
      restart_s = model_.trip_restart_s;
    }
    if (trips > seen_trips_) {
      seen_trips_ = trips;
      std::printf("inverter tripped: its output off for %.0f s\n", restart_s);
      std::fflush(stdout);
      power_cut(restart_s);
    }
    if (const auto e = client_->poll(std::chrono::milliseconds(20))) {
      if (e->kind == drivers::mqtt::Event::Kind::connected) {
        if (!announced_) {
          std::printf("mqtt connected\n");
          std::fflush(stdout);
          announced_ = true;
        }
        for (const auto& r : relays_) {
          bool on = false;
          {
            std::lock_guard l(mutex_);
            on = model_.loads[r.load].on;
          }
          const auto hello = device_hello(r.config, on);
          // The availability message is retained, as the firmware sends it (an LWT or birth).
          for (std::size_t i = 0; i < hello.size(); ++i) client_->publish(hello[i].topic, hello[i].payload, 1, i == 0);
        }
      }
      if (e->kind == drivers::mqtt::Event::Kind::message) handle(*e);
    }
    if (std::chrono::steady_clock::now() >= next_sensor && client_->connected()) {
      next_sensor += std::chrono::milliseconds(static_cast<int>(sensor_period_s_ * 1000));
      for (const auto& s : sensors_) {
        double t = 0;
        {
          std::lock_guard l(mutex_);
          const auto it = model_.zone_temp_c.find(s.zone);
          t = it == model_.zone_temp_c.end() ? 20.0 : it->second;
        }
        const auto m = sensor_message(s.config, t);
        client_->publish(m.topic, m.payload, 0, false);
      }
      for (const auto& r : relays_) {
        if (!r.metered) continue;
        bool on = false;
        double w = 0;
        {
          std::lock_guard l(mutex_);
          const auto& m = model_.loads[r.load];
          on = m.on;
          w = m.power_w;
        }
        if (const auto m = device_power(r.config, on, w)) client_->publish(m->topic, m->payload, 0, false);
      }
    }
  }
}

}  // namespace sim
