// The simulator's firmware side of each relay protocol and sensor format (sim/relay_device.hpp),
// fed back through shackd's own parsers: what the simulated device hears is what shackd sends,
// and what it reports is what shackd reads. In process, no broker.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "drivers/mqtt/power_on.hpp"
#include "drivers/mqtt/relay_protocol.hpp"
#include "drivers/mqtt/sensors.hpp"
#include "sim/relay_device.hpp"

using namespace drivers::mqtt;

namespace {

RelayConfig relay(const char* id, RelayProtocol p, const char* topic, int channel) {
  RelayConfig r;
  r.id = id;
  r.protocol = p;
  r.topic = topic;
  r.channel = channel;
  return r;
}

std::vector<RelayConfig> one_of_each() {
  auto t = relay("t", RelayProtocol::tasmota, "miner1", 2);
  t.dead_man = std::chrono::seconds(900);
  auto g1 = relay("g1", RelayProtocol::shelly_gen1, "shelly1-AABBCC", 0);
  auto g2 = relay("g2", RelayProtocol::shelly_gen2, "shellyplus1pm-a8", 1);
  g2.dead_man = std::chrono::seconds(600);
  auto e = relay("e", RelayProtocol::esphome, "heatroom", 1);
  e.object_id = "heater";
  auto g = relay("g", RelayProtocol::generic, "", 1);
  g.command_topic = "home/h/set";
  g.state_topic = "home/h/state";
  g.availability_topic = "home/h/avail";
  g.payload_on = "1";
  g.payload_off = "0";
  g.state_on = "heating";
  g.state_off = "idle";
  return {t, g1, g2, e, g};
}

// What shackd reads from the device's messages: the last on/off and availability seen.
Observation read_back(const RelayConfig& r, const std::vector<Outgoing>& messages) {
  Observation seen;
  for (const auto& m : messages) {
    const auto o = parse_relay_message(r, m.topic, m.payload);
    if (!o) continue;
    if (o->on) seen.on = o->on;
    if (o->available) seen.available = o->available;
    if (o->power_w) seen.power_w = o->power_w;
  }
  return seen;
}

bool subscribed(const RelayConfig& r, const std::string& topic) {
  for (const auto& s : sim::device_subscriptions(r)) {
    if (s == topic || (s.ends_with("#") && topic.starts_with(s.substr(0, s.size() - 1)))) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("each protocol: the device takes shackd's commands, and shackd confirms by its reports") {
  for (const auto& r : one_of_each()) {
    CAPTURE(r.id);
    for (const bool on : {true, false}) {
      CAPTURE(on);
      std::optional<bool> commanded;
      std::vector<Outgoing> reports;
      for (const auto& out : relay_command(r, on, 7)) {
        CHECK(subscribed(r, out.topic));
        if (const auto c = sim::device_command(r, out.topic, out.payload, !on)) {
          commanded = c->on;
          reports = c->replies;
          for (auto& s : sim::device_state(r, c->on, true)) reports.push_back(std::move(s));
        }
      }
      REQUIRE(commanded.has_value());  // exactly the switch, whatever else was sent (PulseTime)
      CHECK(*commanded == on);
      CHECK(read_back(r, reports).on == on);
    }
    const auto hello = read_back(r, sim::device_hello(r, true));
    CHECK(hello.on == true);
    if (r.protocol != RelayProtocol::generic || !r.availability_topic.empty()) CHECK(hello.available == true);
  }
}

TEST_CASE("Shelly Gen2: a Set to the state it has is confirmed by the RPC reply alone") {
  const auto r = one_of_each()[2];
  const auto out = relay_command(r, true, 3);
  const auto c = sim::device_command(r, out[0].topic, out[0].payload, true);
  REQUIRE(c);
  CHECK(sim::device_state(r, true, false).empty());  // no NotifyStatus without a change
  REQUIRE(c->replies.size() == 1);
  CHECK(c->replies[0].topic == "shackd/rpc");
  CHECK(read_back(r, c->replies).on == true);
  // Another switch of the same device, a malformed request: not this relay's command.
  CHECK_FALSE(sim::device_command(r, r.topic + "/rpc", R"({"id":1,"src":"x","method":"Switch.Set","params":{"id":0,"on":true}})", false));
  CHECK_FALSE(sim::device_command(r, r.topic + "/rpc", "{not json", false));
  CHECK_FALSE(sim::device_command(r, r.topic + "/rpc", R"({"method":"Switch.Set","params":{"id":1,"on":"yes"}})", false));
}

TEST_CASE("metering relays: shackd reads the power the device reports") {
  for (const auto& r : one_of_each()) {
    CAPTURE(r.id);
    const auto m = sim::device_power(r, true, 3250);
    if (r.protocol == RelayProtocol::esphome || r.protocol == RelayProtocol::generic) {
      CHECK_FALSE(m);
      continue;
    }
    REQUIRE(m);
    CHECK(read_back(r, {*m}).power_w == doctest::Approx(3250));
    CHECK(read_back(r, {*sim::device_power(r, false, 3250)}).power_w == doctest::Approx(0));
  }
}

TEST_CASE("each sensor format: shackd reads the temperature the simulated sensor publishes") {
  const auto sensor = [](const char* id, const char* topic, SensorFormat f, const char* key) {
    SensorConfig s;
    s.id = id;
    s.topic = topic;
    s.format = f;
    s.key = key;
    return s;
  };
  const std::vector<SensorConfig> sensors{sensor("by_id", "tele/heatroom/SENSOR", SensorFormat::tasmota, "28FF4A1B6F160337"),
                                          sensor("by_name", "tele/mainroom/SENSOR", SensorFormat::tasmota, "BME280"),
                                          sensor("path", "zigbee/room", SensorFormat::json, "sensors.1.temp"),
                                          sensor("plain", "room/temp", SensorFormat::number, "")};
  for (const auto& s : sensors) {
    CAPTURE(s.id);
    const auto m = sim::sensor_message(s, -7.26);
    CHECK(m.topic == s.topic);
    const auto r = parse_sensor_message({s}, m.topic, m.payload);
    CHECK(r.errors.empty());
    REQUIRE(r.readings.size() == 1);
    CHECK(r.readings[0].value == doctest::Approx(-7.3));
  }
}

// The simulated firmware's power-on setting (sim/relay_device.hpp), asked and set by shackd's own
// requests and read back through shackd's own parser; and what each setting does at power-up.
TEST_CASE("power-on state: the simulated Tasmota and Shelly answer shackd's query and set as the firmware does") {
  for (const auto& r : one_of_each()) {
    CAPTURE(r.id);
    std::string setting = sim::default_power_on(r);
    const auto q = power_on_query(r, 3);
    if (!power_on_unreadable(r).empty()) {
      CHECK_FALSE(q);
      continue;
    }
    REQUIRE(q);
    CHECK(subscribed(r, q->topic));
    // Tasmota's default is PowerOnState 3 (Tasmota docs); the simulated Shelly starts at off.
    const auto ask = [&]() -> std::optional<PowerOnState> {
      const auto replies = sim::device_power_on_request(r, q->topic, q->payload, setting);
      REQUIRE(replies);
      std::optional<PowerOnState> seen;
      for (const auto& m : *replies) {
        if (const auto a = parse_power_on(r, m.topic, m.payload); a && a->state) seen = a->state;
      }
      return seen;
    };
    CHECK(ask()->setting == (r.protocol == RelayProtocol::tasmota ? "3" : "off"));
    setting = r.protocol == RelayProtocol::tasmota ? "1" : "restore_last";
    CHECK(ask()->risk == PowerOnRisk::on);
    const auto set = power_on_set_off(r, 4);
    REQUIRE(set);
    const auto replies = sim::device_power_on_request(r, set->topic, set->payload, setting);
    REQUIRE(replies);
    bool taken = false;
    for (const auto& m : *replies) {
      if (const auto a = parse_power_on(r, m.topic, m.payload)) taken = taken || a->set_taken || (a->state && a->state->risk == PowerOnRisk::off);
    }
    CHECK(taken);
    CHECK(setting == power_on_off_setting(r));
    CHECK(ask()->risk == PowerOnRisk::off);
    // Its switch commands are not taken for power-on requests, nor the reverse.
    for (const auto& c : relay_command(r, true, 9)) {
      std::string untouched = setting;
      CHECK_FALSE(sim::device_power_on_request(r, c.topic, c.payload, untouched));
    }
    CHECK_FALSE(sim::device_command(r, q->topic, q->payload, false));
  }
}

TEST_CASE("power-on state: what each setting does when the power comes back") {
  RelayConfig t;
  t.protocol = RelayProtocol::tasmota;
  // Tasmota docs, PowerOnState.
  for (const bool was_on : {false, true}) {
    CAPTURE(was_on);
    CHECK_FALSE(sim::powers_up_on(t, "0", was_on));
    CHECK(sim::powers_up_on(t, "1", was_on));
    CHECK(sim::powers_up_on(t, "2", was_on) == !was_on);
    CHECK(sim::powers_up_on(t, "3", was_on) == was_on);
    CHECK(sim::powers_up_on(t, "4", was_on));
  }
  RelayConfig s;
  s.protocol = RelayProtocol::shelly_gen2;
  CHECK_FALSE(sim::powers_up_on(s, "off", true));
  CHECK(sim::powers_up_on(s, "on", false));
  CHECK(sim::powers_up_on(s, "restore_last", true));
  CHECK_FALSE(sim::powers_up_on(s, "restore_last", false));
  CHECK(sim::powers_up_on(s, "match_input", false, true));
  CHECK_FALSE(sim::valid_power_on(s, "3"));
  CHECK_FALSE(sim::valid_power_on(t, "6"));
  // A Shelly refuses a value it does not know, and keeps what it had.
  s.topic = "plus";
  s.channel = 0;
  std::string setting = "on";
  const auto replies = sim::device_power_on_request(
      s, "plus/rpc", R"({"id":96,"src":"me","method":"Switch.SetConfig","params":{"id":0,"config":{"initial_state":"maybe"}}})",
      setting);
  REQUIRE(replies);
  CHECK(setting == "on");
  CHECK(nlohmann::json::parse(replies->at(0).payload)["error"]["code"] == -103);
}
