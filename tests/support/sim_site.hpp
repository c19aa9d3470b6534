#pragma once
// A simulated site in process, on a stepped clock: the simulator's physical model (sim::SiteModel)
// and its GX and Sol-Ark servers on loopback, read by the daemon's real Modbus devices; the
// site's Tasmota relays and zone sensors answering on an in-process broker (FakeBroker) as
// shackd-sim's MqttSite does on a real one; the daemon cycled one loop interval per step with a
// real SQLite file and the config a test names. Hours of afternoon run in seconds, cycle for
// cycle, with no faketime and no sleeps; tests/e2e/ keep the daemon as a process.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/loop/daemon.hpp"
#include "sim/kind_units.hpp"
#include "sim/miner_model.hpp"
#include "sim/model.hpp"
#include "sim/server.hpp"
#include "drivers/solark.hpp"
#include "tests/support/device_site.hpp"
#include "tests/support/fake_link.hpp"
#include "tests/support/inline_miner.hpp"
#include "tests/support/stepped_device.hpp"

namespace test {

// The demo site's switched loads, by relay topic (scripts/local-site.sh's SITE_SIM_ARGS), and
// its zone sensors.
inline const std::map<std::string, double> kShackLoadsW = {{"primary_s21", 3878},    {"dump_s19_1", 3250},
                                                           {"heat_room_fan", 60},    {"heat_room_heater", 1500},
                                                           {"main_room_fan", 60},    {"main_room_heater", 1500}};
inline const std::map<std::string, std::string> kShackSensors = {{"Heat Room", "heat_room_temp"},
                                                                 {"Main Room", "main_room_temp"}};

// A config template's text (a file under tests/), for ${...} to be filled in.
inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class SimSite {
 public:
  struct Switch {
    double t_s;
    std::string relay;
    bool on;
  };

  sim::SiteModel model;
  sim::Scenario scenario;
  std::set<std::string> metered;   // relays that report their load's power (Tasmota ENERGY.Power)
  // Miners behind relays, by relay: each powered by its relay, its draw that load's, its API the
  // simulator's model of its firmware, reached in process by the config's miners: entry.
  std::map<std::string, sim::MinerModel> miners;
  double sensor_period_s = 10;
  double t_s = 0;                  // scenario time
  double discharged_ah = 0;        // what the bank has given since t = 0
  std::vector<Switch> switches;    // each relay's changes, as the relays made them
  StepClock clock;
  FakeBroker broker;
  TempDir dir{"sim-site"};
  std::unique_ptr<shackd::Daemon> daemon;

  // `vebus_unit`: a VE.Bus inverter/charger on the GX at this unit (0: none).
  explicit SimSite(int vebus_unit = 0)
      : victron_("victron", "127.0.0.1", 0, sim::gx_units({}, 225, 226, 24, vebus_unit), model, model_mutex_),
        solark_("solark", "127.0.0.1", 0, {{1, &drivers::solark::table(), 0, 331}}, model, model_mutex_) {
    model.internal_ohm = 0;  // as tests/e2e/lib.sh's start_sim
    for (const auto& [relay, w] : kShackLoadsW) model.loads[relay] = {w, false};
    victron_.serve_gx_settings();
    victron_.serve_gx_map({});  // answers as dbus-modbustcp does (sim/gx_map.hpp)
    solark_.serve_writable(1, 210, 185, true);  // docs/registers.md §2.8: FC16 only
    victron_.start();
    solark_.start();
  }
  ~SimSite() {
    daemon.reset();
    victron_.stop();
    solark_.stop();
  }
  SimSite(const SimSite&) = delete;
  SimSite& operator=(const SimSite&) = delete;

  // Starts the daemon with `config` (${DB}, ${VICTRON_PORT}, ${SOLARK_PORT} and ${MQTT_PORT}
  // filled in) at the wall time `wall_start_ms`; false, with the exit code in `start_rc`, when it
  // refuses to start.
  bool start(std::string config, std::int64_t wall_start_ms) {
    fill(config, "${DB}", (dir.path / "shackd.db").string());
    fill(config, "${VICTRON_PORT}", std::to_string(victron_.port()));
    fill(config, "${SOLARK_PORT}", std::to_string(solark_.port()));
    fill(config, "${MQTT_PORT}", "1");
    std::ofstream(dir.path / "shackd.yaml") << config;
    clock.set_wall_ms(wall_start_ms);
    {
      std::lock_guard l(model_mutex_);
      model.advance(0, 0, &scenario);
    }
    shackd::Seams seams;
    seams.clock = &clock;
    seams.make_device = [this](drivers::DeviceConfig c) -> std::unique_ptr<shackd::PolledDevice> {
      return std::make_unique<SteppedDevice>(std::move(c), clock);
    };
    seams.make_mqtt = [this](const drivers::mqtt::ClientConfig&) -> std::unique_ptr<drivers::mqtt::Link> {
      return std::make_unique<FakeLink>(broker);
    };
    seams.notify = [](const std::string&) {};
    seams.make_miner = [this](const drivers::miners::MinerConfig& c) -> std::unique_ptr<shackd::MinerLink> {
      sim::MinerModel& m = miners.at(c.load_id);
      return std::make_unique<InlineMiner>(c.kind->make(c, [&m](const std::string& req) { return m.handle(req); }));
    };
    // The relays are there before the daemon: online, and off.
    for (const auto& [relay, w] : kShackLoadsW) {
      broker.message("tele/" + relay + "/LWT", "Online", true);
      broker.message("stat/" + relay + "/POWER1", "OFF");
    }
    daemon = std::make_unique<shackd::Daemon>(
        shackd::RunOptions{(dir.path / "shackd.yaml").string(), false, false}, std::move(seams));
    start_rc = daemon->start();
    if (start_rc) return false;
    interval_s_ = loop_interval_s(config);
    return true;
  }
  std::optional<int> start_rc;

  // One loop interval: the model moves on (its loads as the relays left them, the chargers'
  // limits as the daemon wrote them), the sensors report when due, the daemon cycles, and the
  // relays answer what it sent.
  void step() {
    {
      std::lock_guard l(model_mutex_);
      t_s += interval_s_;
      for (auto& [relay, miner] : miners) {
        auto& load = model.loads.at(relay);
        miner.advance(interval_s_, load.on);
        load.power_w = miner.draw_w();
      }
      sim::couple_charge_limits(model, victron_, solark_, 1, {});
      model.advance(t_s, interval_s_, &scenario);
      discharged_ah += std::max(0.0, -model.battery_a()) * interval_s_ / 3600.0;
      seen_tracking_mode = static_cast<int>(model.value("solarcharger", "tracking_mode").value_or(0));
      seen_battery_a = model.battery_a();
    }
    if (t_s >= next_sensor_s_) {
      next_sensor_s_ = t_s + sensor_period_s;
      report_sensors();
    }
    clock.step(std::chrono::milliseconds(std::lround(interval_s_ * 1000)));
    daemon->cycle();
    daemon->settle();  // the recorder's writes before the next step (tests read the database)
    answer_relays();
  }
  void run_until(double until_s) {
    while (t_s + interval_s_ / 2 < until_s) step();
  }
  // A relay's state as the model has it.
  bool on(const std::string& relay) {
    std::lock_guard l(model_mutex_);
    return model.loads.at(relay).on;
  }
  // The GX solar charger's operation mode (791: 1 limited, 2 tracking) as the last cycle read
  // it, before its relays answered.
  int seen_tracking_mode = 0;
  double seen_battery_a = 0;  // + charging, as the same cycle read it
  // Edits to the model while the site runs (scenario inputs are set at each step).
  template <class F>
  void with_model(F f) {
    std::lock_guard l(model_mutex_);
    f(model);
  }

 private:
  static void fill(std::string& text, const std::string& key, const std::string& value) {
    for (std::size_t at; (at = text.find(key)) != std::string::npos;) text.replace(at, key.size(), value);
  }
  // The loop's interval as the daemon reads it (it started with this config, so it parses).
  static double loop_interval_s(const std::string& config) {
    const auto parsed = shackd::parse_config(config, "the scenario's config");
    if (!parsed.config) throw std::runtime_error("the scenario's config does not parse");
    return std::chrono::duration<double>(parsed.config->interval).count();
  }
  void report_sensors() {
    std::lock_guard l(model_mutex_);
    for (const auto& [zone, topic] : kShackSensors) {
      const auto it = model.zone_temp_c.find(zone);
      char buf[96];
      std::snprintf(buf, sizeof buf, "{\"DS18B20\":{\"Temperature\":%.1f},\"TempUnit\":\"C\"}",
                    it == model.zone_temp_c.end() ? 20.0 : it->second);
      broker.message("tele/" + topic + "/SENSOR", buf);
    }
    for (const auto& relay : metered) {
      const auto& load = model.loads.at(relay);
      broker.message("tele/" + relay + "/SENSOR", "{\"ENERGY\":{\"Power\":" + std::to_string(std::lround(load.on ? load.power_w : 0)) + "}}");
    }
  }
  // Tasmota: cmnd/<topic>/POWER1 ON switches the load and answers on stat/<topic>/POWER1.
  void answer_relays() {
    for (; seen_ < broker.published.size(); ++seen_) {
      const auto& m = broker.published[seen_];
      if (!m.topic.starts_with("cmnd/")) continue;
      const std::string relay = m.topic.substr(5, m.topic.find('/', 5) - 5);
      if (m.topic != "cmnd/" + relay + "/POWER1" && m.topic != "cmnd/" + relay + "/POWER") continue;
      const bool on = m.payload == "ON" || m.payload == "1";
      {
        std::lock_guard l(model_mutex_);
        const auto it = model.loads.find(relay);
        if (it == model.loads.end()) continue;
        if (it->second.on != on) switches.push_back({t_s, relay, on});
        it->second.on = on;
      }
      broker.message("stat/" + relay + "/POWER1", on ? "ON" : "OFF");
    }
  }

  std::mutex model_mutex_;  // the servers' threads read the model under it
  sim::DeviceServer victron_, solark_;
  double interval_s_ = 2;
  double next_sensor_s_ = 0;
  std::size_t seen_ = 0;
};

}  // namespace test
