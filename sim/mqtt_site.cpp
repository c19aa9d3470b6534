#include "sim/mqtt_site.hpp"

#include <chrono>
#include <cstdio>
#include <stdexcept>

namespace sim {

MqttSite::MqttSite(const std::string& uri, std::map<std::string, std::string> relays,
                   std::map<std::string, std::string> sensors, SiteModel& model, std::mutex& model_mutex,
                   double sensor_period_s, std::set<std::string> metered)
    : relays_(std::move(relays)), sensors_(std::move(sensors)), metered_(std::move(metered)), model_(model), mutex_(model_mutex),
      sensor_period_s_(sensor_period_s) {
  drivers::mqtt::ClientConfig c;
  c.uri = uri;
  c.client_id = "shackd-sim";
  c.keepalive = std::chrono::seconds(10);
  c.status_topic = "shackd-sim/status";
  client_ = std::make_unique<drivers::mqtt::Client>(c);
  for (const auto& [load, topic] : relays_) client_->subscribe("cmnd/" + topic + "/+");
  client_->start();
  thread_ = std::thread([this] { run(); });
}

MqttSite::~MqttSite() {
  stop_ = true;
  thread_.join();
  client_->shutdown(std::chrono::milliseconds(500));
}

void MqttSite::set_relay_fault(const std::string& load, RelayFault f) {
  if (!relays_.count(load)) throw std::runtime_error("no relay for load '" + load + "'");
  std::lock_guard l(faults_mutex_);
  relay_faults_[load] = f;
}

void MqttSite::run() {
  auto next_sensor = std::chrono::steady_clock::now();
  while (!stop_) {
    if (const auto e = client_->poll(std::chrono::milliseconds(20))) {
      if (e->kind == drivers::mqtt::Event::Kind::connected) {
        if (!announced_) {
          std::printf("mqtt connected\n");
          std::fflush(stdout);
          announced_ = true;
        }
        for (const auto& [load, topic] : relays_) {
          client_->publish("tele/" + topic + "/LWT", "Online", 1, true);
          bool on = false;
          {
            std::lock_guard l(mutex_);
            on = model_.loads[load].on;
          }
          client_->publish("stat/" + topic + "/POWER1", on ? "ON" : "OFF", 1, false);
        }
      }
      if (e->kind == drivers::mqtt::Event::Kind::message) {
        for (const auto& [load, topic] : relays_) {
          if (e->topic != "cmnd/" + topic + "/POWER1" && e->topic != "cmnd/" + topic + "/POWER") continue;
          if (marked_.exchange(false)) {
            first_command_after_mark_ns_ =
                std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
          }
          RelayFault fault = RelayFault::ok;
          {
            std::lock_guard l(faults_mutex_);
            if (const auto it = relay_faults_.find(load); it != relay_faults_.end()) fault = it->second;
          }
          if (fault == RelayFault::mute) continue;
          bool on = e->payload == "ON" || e->payload == "1";
          {
            std::lock_guard l(mutex_);
            if (fault == RelayFault::stuck) on = model_.loads[load].on;
            else model_.loads[load].on = on;
          }
          client_->publish("stat/" + topic + "/RESULT", std::string("{\"POWER1\":\"") + (on ? "ON" : "OFF") + "\"}", 1, false);
          client_->publish("stat/" + topic + "/POWER1", on ? "ON" : "OFF", 1, false);
        }
      }
    }
    if (std::chrono::steady_clock::now() >= next_sensor && client_->connected()) {
      next_sensor += std::chrono::milliseconds(static_cast<int>(sensor_period_s_ * 1000));
      for (const auto& [zone, topic] : sensors_) {
        double t = 0;
        {
          std::lock_guard l(mutex_);
          const auto it = model_.zone_temp_c.find(zone);
          t = it == model_.zone_temp_c.end() ? 20.0 : it->second;
        }
        char buf[128];
        std::snprintf(buf, sizeof buf, "{\"DS18B20\":{\"Temperature\":%.1f},\"TempUnit\":\"C\"}", t);
        client_->publish("tele/" + topic + "/SENSOR", buf, 0, false);
      }
      for (const auto& load : metered_) {
        double w = 0;
        {
          std::lock_guard l(mutex_);
          const auto& m = model_.loads[load];
          w = m.on ? m.power_w : 0;
        }
        char buf[96];
        std::snprintf(buf, sizeof buf, "{\"ENERGY\":{\"Power\":%.0f}}", w);
        client_->publish("tele/" + relays_.at(load) + "/SENSOR", buf, 0, false);
      }
    }
  }
}

}  // namespace sim
