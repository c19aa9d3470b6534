#pragma once
// Small stand-ins for relay firmware: they subscribe to the command topics a real device
// listens on and answer on its state topics, as docs/protocols.md §1 describes each one. A mode makes
// one misbehave: never confirm, or report the opposite of what it was told.
#include <nlohmann/json.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "drivers/mqtt/client.hpp"
#include "drivers/mqtt/relay_protocol.hpp"

namespace test {

class RelayEmulator {
 public:
  enum class Mode { normal, silent, liar };
  struct Received {
    std::string topic, payload;
    bool retained;
  };

  static drivers::mqtt::ClientConfig emulator_client(const std::string& uri, const std::string& id) {
    drivers::mqtt::ClientConfig c;
    c.uri = uri;
    c.client_id = "emu-" + id;
    c.keepalive = std::chrono::seconds(5);
    c.status_topic = "emu/" + id + "/status";
    return c;
  }

  RelayEmulator(const std::string& uri, drivers::mqtt::RelayConfig relay, Mode mode = Mode::normal)
      : relay_(std::move(relay)), mode_(mode),
        client_(emulator_client(uri, relay_.id)) {
    using drivers::mqtt::RelayProtocol;
    switch (relay_.protocol) {
      case RelayProtocol::tasmota: client_.subscribe("cmnd/" + relay_.topic + "/#"); break;
      case RelayProtocol::shelly_gen1: client_.subscribe("shellies/" + relay_.topic + "/relay/+/command"); break;
      case RelayProtocol::shelly_gen2: client_.subscribe(relay_.topic + "/rpc"); break;
      case RelayProtocol::esphome: client_.subscribe(relay_.topic + "/switch/+/command"); break;
      case RelayProtocol::generic: client_.subscribe(relay_.command_topic); break;
    }
    client_.start();
    thread_ = std::thread([this] { run(); });
  }
  ~RelayEmulator() {
    stop_ = true;
    thread_.join();
  }

  int notifies() const { return notifies_; }
  std::vector<Received> received() {
    std::lock_guard l(m_);
    return received_;
  }
  void clear() {
    std::lock_guard l(m_);
    received_.clear();
  }
  bool on() const { return on_; }
  bool connected() const { return client_.connected(); }
  // Connected and its command topics acknowledged by the broker (SUBACK): a command sent from
  // here on reaches it.
  bool subscribed() const { return client_.subscribed(); }
  int toggle_after() const { return toggle_after_; }
  int pulse_time() const { return pulse_time_; }

 private:
  void announce() {
    using drivers::mqtt::RelayProtocol;
    switch (relay_.protocol) {
      case RelayProtocol::tasmota: client_.publish("tele/" + relay_.topic + "/LWT", "Online", 1, true); break;
      case RelayProtocol::shelly_gen1: client_.publish("shellies/" + relay_.topic + "/online", "true", 1, true); break;
      case RelayProtocol::shelly_gen2: client_.publish(relay_.topic + "/online", "true", 1, true); break;
      case RelayProtocol::esphome: client_.publish(relay_.topic + "/status", "online", 1, true); break;
      case RelayProtocol::generic: break;
    }
  }

  void report(bool commanded) {
    using drivers::mqtt::RelayProtocol;
    if (mode_ == Mode::silent) return;
    const bool state = mode_ == Mode::liar ? !commanded : commanded;
    const bool changed = !reported_ || state != on_;
    reported_ = true;
    on_ = state;
    const std::string ch = std::to_string(relay_.channel);
    switch (relay_.protocol) {
      case RelayProtocol::tasmota:
        client_.publish("stat/" + relay_.topic + "/RESULT", std::string("{\"POWER") + ch + "\":\"" + (state ? "ON" : "OFF") + "\"}", 1, false);
        client_.publish("stat/" + relay_.topic + "/POWER" + ch, state ? "ON" : "OFF", 1, false);
        break;
      case RelayProtocol::shelly_gen1:
        client_.publish("shellies/" + relay_.topic + "/relay/" + ch, state ? "on" : "off", 1, false);
        break;
      case RelayProtocol::shelly_gen2: {
        // A real Shelly Gen2 sends NotifyStatus only for what changed: a Switch.Set to the state
        // it already has produces the RPC reply and nothing else.
        if (!changed) break;
        ++notifies_;
        const nlohmann::json n{{"src", relay_.topic}, {"method", "NotifyStatus"},
                               {"params", {{"ts", 1.0}, {"switch:" + ch, {{"id", relay_.channel}, {"output", state}}}}}};
        client_.publish(relay_.topic + "/events/rpc", n.dump(), 1, false);
        break;
      }
      case RelayProtocol::esphome:
        client_.publish(relay_.topic + "/switch/" + relay_.object_id + "/state", state ? "ON" : "OFF", 1, true);
        break;
      case RelayProtocol::generic:
        client_.publish(relay_.state_topic, state ? relay_.state_on : relay_.state_off, 1, false);
        break;
    }
  }

  void handle(const drivers::mqtt::Event& e) {
    using drivers::mqtt::RelayProtocol;
    {
      std::lock_guard l(m_);
      received_.push_back({e.topic, e.payload, e.retained});
    }
    const std::string ch = std::to_string(relay_.channel);
    switch (relay_.protocol) {
      case RelayProtocol::tasmota:
        if (e.topic == "cmnd/" + relay_.topic + "/PulseTime" + ch) pulse_time_ = std::stoi(e.payload);
        if (e.topic == "cmnd/" + relay_.topic + "/POWER" + ch) report(e.payload == "ON");
        break;
      case RelayProtocol::shelly_gen1:
        if (e.topic == "shellies/" + relay_.topic + "/relay/" + ch + "/command") report(e.payload == "on");
        break;
      case RelayProtocol::shelly_gen2: {
        const auto j = nlohmann::json::parse(e.payload, nullptr, false);
        if (!j.is_object() || j.value("method", "") != "Switch.Set") break;
        const auto& p = j["params"];
        toggle_after_ = p.value("toggle_after", 0);
        const bool was_on = on_;
        if (mode_ != Mode::silent) {
          const nlohmann::json reply{{"id", j["id"]}, {"src", relay_.topic}, {"result", {{"was_on", was_on}}}};
          client_.publish(j["src"].get<std::string>() + "/rpc", reply.dump(), 1, false);
        }
        report(p.value("on", false));
        break;
      }
      case RelayProtocol::esphome:
        if (e.topic == relay_.topic + "/switch/" + relay_.object_id + "/command") report(e.payload == "ON");
        break;
      case RelayProtocol::generic:
        if (e.topic == relay_.command_topic) report(e.payload == relay_.payload_on);
        break;
    }
  }

  void run() {
    while (!stop_) {
      const auto e = client_.poll(std::chrono::milliseconds(20));
      if (!e) continue;
      if (e->kind == drivers::mqtt::Event::Kind::connected) announce();
      if (e->kind == drivers::mqtt::Event::Kind::message) handle(*e);
    }
  }

  drivers::mqtt::RelayConfig relay_;
  Mode mode_;
  drivers::mqtt::Client client_;
  std::thread thread_;
  std::atomic<bool> stop_{false}, on_{false};
  std::atomic<int> toggle_after_{0}, pulse_time_{0};
  std::atomic<int> notifies_{0};  // Shelly Gen2 NotifyStatus messages sent
  bool reported_ = false;         // the first report always goes out: the device's state at boot
  std::mutex m_;
  std::vector<Received> received_;
};

}  // namespace test
