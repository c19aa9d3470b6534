// Relay protocols, sensors and commands as pure functions.
#include <doctest/doctest.h>

#include <set>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "drivers/mqtt/commands.hpp"
#include "drivers/mqtt/power_on.hpp"
#include "drivers/mqtt/broker_uri.hpp"
#include "drivers/mqtt/reconnect.hpp"
#include "drivers/mqtt/relay_protocol.hpp"
#include "drivers/mqtt/sensors.hpp"

using namespace drivers::mqtt;
using namespace std::chrono_literals;

namespace {
RelayConfig tasmota(int channel = 1) {
  RelayConfig r;
  r.id = "fan";
  r.protocol = RelayProtocol::tasmota;
  r.topic = "heatfan";
  r.channel = channel;
  return r;
}
}  // namespace

TEST_CASE("Tasmota: FullTopic, POWER<n>, PulseTime as a dead-man, and both POWER forms") {
  auto r = tasmota();
  auto cmd = relay_command(r, true, 1);
  REQUIRE(cmd.size() == 1);
  CHECK(cmd[0].topic == "cmnd/heatfan/POWER1");
  CHECK(cmd[0].payload == "ON");
  r.dead_man = 300s;
  cmd = relay_command(r, true, 1);
  REQUIRE(cmd.size() == 2);
  CHECK(cmd[0].topic == "cmnd/heatfan/PulseTime1");
  CHECK(cmd[0].payload == "400");  // 112..64900 = seconds + 100
  CHECK(relay_command(r, false, 1).size() == 1);
  r.full_topic = "tasmota/%topic%/%prefix%/";
  CHECK(relay_command(r, false, 1)[0].topic == "tasmota/heatfan/cmnd/POWER1");

  r = tasmota();
  CHECK(parse_relay_message(r, "stat/heatfan/POWER1", "ON")->on == true);
  CHECK(parse_relay_message(r, "stat/heatfan/POWER", "OFF")->on == false);  // SetOption26 0
  CHECK(parse_relay_message(r, "stat/heatfan/RESULT", R"({"POWER":"ON"})")->on == true);
  CHECK(parse_relay_message(r, "tele/heatfan/STATE", R"({"Time":"x","POWER1":"OFF","Wifi":{}})")->on == false);
  CHECK(parse_relay_message(r, "tele/heatfan/LWT", "Offline")->available == false);
  CHECK_FALSE(parse_relay_message(r, "stat/heatfan/RESULT", R"({"Dimmer":50})"));
  CHECK_FALSE(parse_relay_message(r, "stat/heatfan/RESULT", "not json"));
  CHECK_FALSE(parse_relay_message(r, "stat/other/POWER1", "ON"));
  auto two = tasmota(2);
  CHECK_FALSE(parse_relay_message(two, "stat/heatfan/RESULT", R"({"POWER1":"ON"})"));
  CHECK(parse_relay_message(two, "stat/heatfan/RESULT", R"({"POWER2":"ON"})")->on == true);
  CHECK_FALSE(parse_relay_message(two, "stat/heatfan/POWER", "ON"));
}

TEST_CASE("Shelly Gen1, Gen2 and ESPHome") {
  RelayConfig g1;
  g1.id = "x";
  g1.protocol = RelayProtocol::shelly_gen1;
  g1.topic = "shelly1-AABBCC";
  g1.channel = 0;
  CHECK(relay_command(g1, true, 1)[0].topic == "shellies/shelly1-AABBCC/relay/0/command");
  CHECK(relay_command(g1, true, 1)[0].payload == "on");
  CHECK(parse_relay_message(g1, "shellies/shelly1-AABBCC/relay/0", "off")->on == false);
  CHECK(parse_relay_message(g1, "shellies/shelly1-AABBCC/online", "false")->available == false);

  RelayConfig g2 = g1;
  g2.protocol = RelayProtocol::shelly_gen2;
  g2.topic = "shellyplus1pm-a8032ab29be0";
  g2.dead_man = 600s;
  const auto cmd = relay_command(g2, true, 7);
  REQUIRE(cmd.size() == 1);
  CHECK(cmd[0].topic == "shellyplus1pm-a8032ab29be0/rpc");
  const auto j = nlohmann::json::parse(cmd[0].payload);
  CHECK(j["method"] == "Switch.Set");
  CHECK(j["src"] == "shackd");
  CHECK(j["id"] == 7 * 128 + 0 * 2 + 1);  // the sequence, the switch and the state: the reply confirms it
  CHECK(j["params"]["on"] == true);
  CHECK(j["params"]["toggle_after"] == 600);
  CHECK_FALSE(nlohmann::json::parse(relay_command(g2, false, 8)[0].payload)["params"].contains("toggle_after"));
  // The RPC reply confirms a Switch.Set even when the output did not change (no NotifyStatus then).
  const auto reply = [](long long id, const char* src) {
    return nlohmann::json{{"id", id}, {"src", src}, {"result", {{"was_on", true}}}}.dump();
  };
  CHECK(parse_relay_message(g2, "shackd/rpc", reply(j["id"].get<long long>(), "shellyplus1pm-a8032ab29be0"))->on == true);
  CHECK(parse_relay_message(g2, "shackd/rpc", reply(shelly_rpc_id(8, 0, false), "shellyplus1pm-a8032ab29be0"))->on == false);
  CHECK_FALSE(parse_relay_message(g2, "shackd/rpc", reply(shelly_rpc_id(8, 1, true), "shellyplus1pm-a8032ab29be0")));  // switch:1
  CHECK_FALSE(parse_relay_message(g2, "shackd/rpc", reply(shelly_rpc_id(8, 0, true), "shellyplus1-other")));  // another device
  CHECK_FALSE(parse_relay_message(g2, "shackd/rpc",
                                  R"({"id":129,"src":"shellyplus1pm-a8032ab29be0","error":{"code":-103,"message":"x"}})"));
  // A reply whose keys have the wrong types is ignored, never thrown (found by fuzz_mqtt).
  CHECK_FALSE(parse_relay_message(g2, "shackd/rpc", R"({"id":3,"src":{"was_on":false}})"));
  CHECK_FALSE(parse_relay_message(g2, "shackd/rpc", R"({"id":3,"src":17,"result":{}})"));
  CHECK_FALSE(parse_relay_message(g2, "shackd/rpc", R"({"id":"3","src":"shellyplus1pm-a8032ab29be0","result":{}})"));
  CHECK(parse_relay_message(g2, "shellyplus1pm-a8032ab29be0/events/rpc",
                            R"({"method":"NotifyStatus","params":{"ts":1,"switch:0":{"output":true}}})")->on == true);
  // NotifyStatus with only other keys says nothing about the output (its power is news of its own).
  const auto only_power = parse_relay_message(g2, "shellyplus1pm-a8032ab29be0/events/rpc",
                                              R"({"method":"NotifyStatus","params":{"switch:0":{"apower":12.5}}})");
  REQUIRE(only_power);
  CHECK_FALSE(only_power->on);
  CHECK(only_power->power_w == 12.5);
  CHECK_FALSE(parse_relay_message(g2, "shellyplus1pm-a8032ab29be0/events/rpc",
                                  R"({"method":"NotifyStatus","params":{"switch:0":{"temperature":{"tC":40}}}})"));
  CHECK(parse_relay_message(g2, "shellyplus1pm-a8032ab29be0/status/switch:0", R"({"id":0,"output":false})")->on == false);

  RelayConfig esp;
  esp.id = "heater";
  esp.protocol = RelayProtocol::esphome;
  esp.topic = "heatroom";
  esp.object_id = "heater_relay";
  CHECK(relay_command(esp, false, 1)[0].topic == "heatroom/switch/heater_relay/command");
  CHECK(parse_relay_message(esp, "heatroom/switch/heater_relay/state", "ON")->on == true);
  CHECK(parse_relay_message(esp, "heatroom/status", "offline")->available == false);
}

TEST_CASE("metered relays: the load's own power, where the relay reports it") {
  // Tasmota tele/<t>/SENSOR, one channel or one value per channel.
  auto r = tasmota();
  CHECK(parse_relay_message(r, "tele/heatfan/SENSOR", R"({"Time":"x","ENERGY":{"Total":1.2,"Power":3215}})")->power_w == 3215);
  auto two = tasmota(2);
  CHECK(parse_relay_message(two, "tele/heatfan/SENSOR", R"({"ENERGY":{"Power":[12,1480]}})")->power_w == 1480);
  CHECK_FALSE(parse_relay_message(tasmota(3), "tele/heatfan/SENSOR", R"({"ENERGY":{"Power":[12,1480]}})"));
  // A sensor message without ENERGY (a DS18B20 on the same device), or with nonsense, is no power.
  CHECK_FALSE(parse_relay_message(r, "tele/heatfan/SENSOR", R"({"DS18B20":{"Temperature":21.5}})"));
  CHECK_FALSE(parse_relay_message(r, "tele/heatfan/SENSOR", R"({"ENERGY":{"Power":"lots"}})"));
  CHECK_FALSE(parse_relay_message(r, "tele/heatfan/SENSOR", R"({"ENERGY":{"Power":-250}})"));
  CHECK_FALSE(parse_relay_message(r, "tele/heatfan/SENSOR", R"({"ENERGY":{"Power":1e9}})"));
  CHECK(parse_relay_message(r, "tele/heatfan/SENSOR", R"({"ENERGY":{"Power":-0.4}})")->power_w == 0);  // noise at rest
  CHECK(std::ranges::count(relay_subscriptions(r), std::string("tele/heatfan/SENSOR")) == 1);

  // Shelly Gen1 relay/<n>/power, a plain number in W.
  RelayConfig g1;
  g1.id = "x";
  g1.protocol = RelayProtocol::shelly_gen1;
  g1.topic = "shelly1pm-AABBCC";
  g1.channel = 0;
  CHECK(parse_relay_message(g1, "shellies/shelly1pm-AABBCC/relay/0/power", "1523.40")->power_w == doctest::Approx(1523.4));
  CHECK_FALSE(parse_relay_message(g1, "shellies/shelly1pm-AABBCC/relay/0/power", "nan"));
  CHECK_FALSE(parse_relay_message(g1, "shellies/shelly1pm-AABBCC/relay/0/power", "12 W"));
  CHECK_FALSE(parse_relay_message(g1, "shellies/shelly1pm-AABBCC/relay/1/power", "12"));
  CHECK(std::ranges::count(relay_subscriptions(g1), std::string("shellies/shelly1pm-AABBCC/relay/0/power")) == 1);

  // Shelly Gen2 status/switch:<n>: output and apower together.
  RelayConfig g2 = g1;
  g2.protocol = RelayProtocol::shelly_gen2;
  g2.topic = "shellyplus1pm-a8032ab29be0";
  const auto st = parse_relay_message(g2, "shellyplus1pm-a8032ab29be0/status/switch:0",
                                      R"({"id":0,"output":true,"apower":3250.7,"voltage":230.1,"aenergy":{"total":12.3}})");
  REQUIRE(st);
  CHECK(st->on == true);
  CHECK(st->power_w == doctest::Approx(3250.7));
  CHECK_FALSE(parse_relay_message(g2, "shellyplus1pm-a8032ab29be0/status/switch:0", R"({"id":0,"output":true})")->power_w);
}

TEST_CASE("relay configs are checked") {
  RelayConfig r = tasmota();
  CHECK(validate_relay(r).empty());
  r.channel = 0;
  CHECK(validate_relay(r)[0] == "relay 'fan': channel 0 must be 1 to 32 (Tasmota POWER1..POWER32)");
  r = tasmota();
  r.topic = "a/#";
  CHECK(validate_relay(r)[0] == "relay 'fan': topic must be set, without wildcards");
  r = tasmota();
  r.dead_man = 5s;
  CHECK(validate_relay(r)[0] == "relay 'fan': dead_man 5 s must be 12 to 64800 s (Tasmota PulseTime)");
  r.protocol = RelayProtocol::esphome;
  r.object_id = "x";
  CHECK(validate_relay(r)[0].find("only Tasmota (PulseTime) and Shelly Gen2") != std::string::npos);
  CHECK(parse_protocol("shelly_gen2") == RelayProtocol::shelly_gen2);
  CHECK_FALSE(parse_protocol("zigbee"));
}

TEST_CASE("sensors: Tasmota by key or DS18B20 Id, JSON paths, plain numbers; bad payloads give reasons") {
  const std::vector<SensorConfig> sensors{
      {"room", "tele/t1/SENSOR", SensorFormat::tasmota, "DS18B20-1", "Temperature"},
      {"battery", "tele/t1/SENSOR", SensorFormat::tasmota, "00000566CC39", "Temperature"},
      {"bme", "tele/t2/SENSOR", SensorFormat::tasmota, "BME280", "Temperature"},
      {"deep", "home/x", SensorFormat::json, "sensors.1.temp"},
      {"plain", "home/plain", SensorFormat::number, ""},
  };
  auto r = parse_sensor_message(sensors, "tele/t1/SENSOR",
                                R"({"Time":"2017-02-16T10:13:52","DS18B20-1":{"Id":"00000566CC39","Temperature":13.3},)"
                                R"("DS18B20-2":{"Id":"0000056C1E7D","Temperature":-2.1},"TempUnit":"C"})");
  REQUIRE(r.readings.size() == 2);
  CHECK(r.readings[0].value == doctest::Approx(13.3));  // by key
  CHECK(r.readings[1].value == doctest::Approx(13.3));  // by Id
  r = parse_sensor_message(sensors, "tele/t2/SENSOR", R"({"BME280":{"Temperature":21.4,"Humidity":40}})");
  CHECK(r.readings.at(0).value == doctest::Approx(21.4));
  r = parse_sensor_message(sensors, "home/x", R"({"sensors":[{"temp":1},{"temp":38.5}]})");
  CHECK(r.readings.at(0).value == doctest::Approx(38.5));
  CHECK(parse_sensor_message(sensors, "home/plain", "22.25").readings.at(0).value == doctest::Approx(22.25));

  r = parse_sensor_message(sensors, "tele/t1/SENSOR", R"({"DS18B20-1":{"Temperature":)");
  CHECK(r.readings.empty());
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0].find("sensor 'room' on tele/t1/SENSOR: ignored: not JSON") != std::string::npos);
  r = parse_sensor_message(sensors, "tele/t1/SENSOR", R"({"DS18B20-1":{"Temperature":"warm"}})");
  CHECK(r.errors[0].find("DS18B20-1.Temperature is not a number") != std::string::npos);
  CHECK(r.errors[1].find("no sensor '00000566CC39' in the payload") != std::string::npos);
  r = parse_sensor_message(sensors, "tele/t2/SENSOR", R"({"BME280":{"Temperature":185.0}})");
  CHECK(r.errors.at(0).find("185 outside its plausible range -40..100") != std::string::npos);
  r = parse_sensor_message(sensors, "home/plain", "22.25C");
  CHECK(r.errors.at(0).find("'22.25C' is not a number") != std::string::npos);
  r = parse_sensor_message(sensors, "home/x", R"({"sensors":[]})");
  CHECK(r.errors.at(0).find("no '1' along the path 'sensors.1.temp'") != std::string::npos);
  CHECK(parse_sensor_message(sensors, "unrelated", "1").readings.empty());
  CHECK(parse_sensor_message(sensors, "unrelated", "1").errors.empty());
  // Any client on the broker may publish there: 30,000 nested lists in the 64 KiB a payload may
  // hold are refused and named, never built (a copy of such a tree overflowed the link's stack).
  const std::string deep = std::string(30'000, '[') + std::string(30'000, ']');
  r = parse_sensor_message(sensors, "home/x", deep);
  CHECK(r.readings.empty());
  CHECK(r.errors.at(0).find("nested deeper than 32 levels: '[[[[") != std::string::npos);
}

TEST_CASE("relay and power-on payloads nested past the bound are no state and no answer") {
  const std::string deep = std::string(30'000, '[') + std::string(30'000, ']');
  const std::string deep_object = R"({"id":1,"src":"shellyplus1pm-a8032ab29be0","result":)" + deep + "}";
  RelayConfig g2;
  g2.id = "x";
  g2.protocol = RelayProtocol::shelly_gen2;
  g2.topic = "shellyplus1pm-a8032ab29be0";
  g2.channel = 0;
  for (const auto& topic : relay_subscriptions(g2)) {
    CAPTURE(topic);
    const std::string concrete = topic.substr(0, topic.find('#'));
    CHECK_FALSE(parse_relay_message(g2, concrete, deep));
    CHECK_FALSE(parse_relay_message(g2, concrete, deep_object));
    CHECK_FALSE(parse_power_on(g2, concrete, deep_object));
  }
  // Where a value is copied or written out whole (NotifyEvent's method, an error, PowerOnState).
  CHECK_FALSE(parse_power_on(g2, g2.topic + "/events/rpc", R"({"method":)" + deep + "}"));
  const RelayConfig t = tasmota();
  CHECK_FALSE(parse_relay_message(t, "stat/heatfan/RESULT", R"({"POWER":)" + deep + "}"));
  CHECK_FALSE(parse_power_on(t, "stat/heatfan/RESULT", R"({"PowerOnState":)" + deep + "}"));
  // The same shapes one level deep are read as before.
  CHECK(parse_relay_message(t, "stat/heatfan/RESULT", R"({"POWER":"ON"})")->on == true);
}

TEST_CASE("mode commands: auto, on, off, with an optional time; everything else refused") {
  const auto ok = [](const std::string& p) { return std::get<ModeCommand>(parse_mode_command(p)); };
  CHECK(ok("auto").mode == ModeCommand::Mode::automatic);
  CHECK(ok("ON").mode == ModeCommand::Mode::on);
  CHECK_FALSE(ok("off").duration);
  CHECK(ok("on 2h").duration == std::chrono::seconds(7200));
  CHECK(ok(" off 1h30m ").duration == std::chrono::seconds(5400));
  CHECK(ok("on 90s").duration == std::chrono::seconds(90));
  CHECK(ok("on 1d").duration == std::chrono::seconds(86400));
  for (const char* bad : {"", "maybe", "on 2", "on -1h", "on 2 hours", "auto 1h", "on 8d", "on 0m", "on;off",
                          "on 99999999999h"}) {
    CAPTURE(std::string(bad));
    CHECK(std::holds_alternative<std::string>(parse_mode_command(bad)));
  }
  CHECK(std::get<std::string>(parse_mode_command("auto 1h")) == "auto takes no time: it is where an override ends");
  CHECK(mode_topic_load("shack", "shack/load/primary_s21/mode/set") == std::optional<std::string>("primary_s21"));
  CHECK_FALSE(mode_topic_load("shack", "shack/load/a/b/mode/set"));
  CHECK_FALSE(mode_topic_load("shack", "other/load/a/mode/set"));
  CHECK_FALSE(mode_topic_load("shack", "shack/load//mode/set"));
}

// How a relay powers up after a cut (docs/protocols.md §1.6): Tasmota's PowerOnState and a Shelly
// Gen2 switch's initial_state, asked, set and read back; Gen1 and ESPHome say why they cannot.
TEST_CASE("power-on state: Tasmota's PowerOnState asked, set and read; every value named") {
  auto r = tasmota(2);
  const auto q = power_on_query(r, 1);
  REQUIRE(q);
  CHECK(q->topic == "cmnd/heatfan/PowerOnState");
  CHECK(q->payload.empty());  // an empty payload asks
  const auto set = power_on_set_off(r, 2);
  REQUIRE(set);
  CHECK(set->topic == "cmnd/heatfan/PowerOnState");
  CHECK(set->payload == "0");
  CHECK(power_on_unreadable(r).empty());
  // The answer, on RESULT (and on the command's own topic with SetOption4 1).
  const auto a = parse_power_on(r, "stat/heatfan/RESULT", R"({"PowerOnState":3})");
  REQUIRE(a);
  REQUIRE(a->state);
  CHECK(a->state->setting == "3");
  CHECK(a->state->risk == PowerOnRisk::on);
  CHECK(parse_power_on(r, "stat/heatfan/POWERONSTATE", R"({"PowerOnState":0})")->state->risk == PowerOnRisk::off);
  CHECK_FALSE(parse_power_on(r, "stat/heatfan/RESULT", R"({"POWER2":"ON"})"));  // a switch report, not this
  CHECK_FALSE(parse_power_on(r, "stat/other/RESULT", R"({"PowerOnState":3})"));
  CHECK_FALSE(parse_power_on(r, "stat/heatfan/RESULT", "not json"));
  CHECK(parse_power_on(r, "stat/heatfan/RESULT", R"({"PowerOnState":"x"})")->refused.find("not a number") != std::string::npos);
  // Tasmota docs: 0 off, 1 on, 2 toggle, 3 last saved state (the default), 4 on and locked, 5 on after PulseTime.
  CHECK(tasmota_power_on(0).risk == PowerOnRisk::off);
  for (int v = 1; v <= 5; ++v) CHECK(tasmota_power_on(v).risk == PowerOnRisk::on);
  CHECK(tasmota_power_on(4).words.find("ignores every command") != std::string::npos);
  CHECK(tasmota_power_on(6).risk == PowerOnRisk::unknown);
  CHECK(tasmota_power_on(-1).risk == PowerOnRisk::unknown);
  // The relay's own switch report is not taken for a power-on answer, nor the reverse.
  CHECK_FALSE(parse_relay_message(r, "stat/heatfan/RESULT", R"({"PowerOnState":1})"));
}

TEST_CASE("power-on state: a Shelly Gen2 switch's initial_state by Switch.GetConfig and Switch.SetConfig") {
  RelayConfig r;
  r.id = "dump";
  r.protocol = RelayProtocol::shelly_gen2;
  r.topic = "plus1pm-dump";
  r.channel = 1;
  const auto q = power_on_query(r, 5);
  REQUIRE(q);
  CHECK(q->topic == "plus1pm-dump/rpc");
  const auto req = nlohmann::json::parse(q->payload);
  CHECK(req["method"] == "Switch.GetConfig");
  CHECK(req["src"] == "shackd");
  CHECK(req["params"]["id"] == 1);
  const long long get_id = req["id"].get<long long>();
  const auto set = nlohmann::json::parse(power_on_set_off(r, 6)->payload);
  CHECK(set["method"] == "Switch.SetConfig");
  CHECK(set["params"] == nlohmann::json{{"id", 1}, {"config", {{"initial_state", "off"}}}});
  const long long set_id = set["id"].get<long long>();
  // No configuration id is ever a Switch.Set id: a GetConfig reply is not "the switch is ON".
  for (int seq = 1; seq < 2000; ++seq) {
    for (int ch = 0; ch <= 15; ++ch) {
      for (const bool on : {false, true}) {
        const long long s = shelly_rpc_id(seq, ch, on);
        CHECK_FALSE((s == shelly_config_rpc_id(seq, ch, ShellyConfigCall::get) ||
                     s == shelly_config_rpc_id(seq, ch, ShellyConfigCall::set)));
      }
    }
  }
  const auto reply = [&](long long id, const nlohmann::json& body) {
    nlohmann::json j{{"id", id}, {"src", "plus1pm-dump"}, {"dst", "shackd"}};
    j.update(body);
    return j.dump();
  };
  const std::string got = reply(get_id, {{"result", {{"id", 1}, {"in_mode", "follow"}, {"initial_state", "restore_last"}}}});
  const auto a = parse_power_on(r, "shackd/rpc", got);
  REQUIRE(a);
  REQUIRE(a->state);
  CHECK(a->state->setting == "restore_last");
  CHECK(a->state->risk == PowerOnRisk::on);
  CHECK_FALSE(parse_relay_message(r, "shackd/rpc", got));  // not a switch confirmation
  CHECK(parse_power_on(r, "shackd/rpc", reply(set_id, {{"result", {{"restart_required", false}}}}))->set_taken);
  const auto refused = parse_power_on(r, "shackd/rpc",
                                      reply(set_id, {{"error", {{"code", -103}, {"message", "Invalid argument"}}}}));
  CHECK(refused->refused == "Invalid argument");
  CHECK(shelly_initial_state("off").risk == PowerOnRisk::off);
  CHECK(shelly_initial_state("on").risk == PowerOnRisk::on);
  CHECK(shelly_initial_state("match_input").risk == PowerOnRisk::follows_input);
  CHECK(shelly_initial_state("\xff\xfe").risk == PowerOnRisk::unknown);
  // Another device, another switch, a Switch.Set reply, hostile shapes: none is an answer.
  CHECK_FALSE(parse_power_on(r, "shackd/rpc",
                             nlohmann::json{{"id", get_id}, {"src", "other"}, {"result", {{"initial_state", "on"}}}}.dump()));
  RelayConfig r0 = r;
  r0.channel = 0;
  CHECK_FALSE(parse_power_on(r0, "shackd/rpc", got));
  CHECK_FALSE(parse_power_on(r, "shackd/rpc", reply(shelly_rpc_id(7, 1, true), {{"result", {{"was_on", false}}}})));
  CHECK_FALSE(parse_power_on(r, "shackd/rpc", R"({"id":"x","src":"plus1pm-dump","result":{}})"));
  CHECK_FALSE(parse_power_on(r, "shackd/rpc", R"({"id":33,"src":7,"result":{}})"));
  CHECK(parse_power_on(r, "shackd/rpc", reply(get_id, {{"result", {{"initial_state", 3}}}}))->refused ==
        "its configuration has no initial_state");
  // Someone changed the switch's configuration: ask again (the config_changed event).
  const auto changed = parse_power_on(
      r, "plus1pm-dump/events/rpc",
      R"({"src":"plus1pm-dump","method":"NotifyEvent","params":{"ts":1,"events":[{"component":"switch:1","event":"config_changed"}]}})");
  REQUIRE(changed);
  CHECK(changed->changed);
  CHECK_FALSE(parse_power_on(
      r, "plus1pm-dump/events/rpc",
      R"({"method":"NotifyEvent","params":{"events":[{"component":"switch:0","event":"config_changed"}]}})"));
  CHECK_FALSE(parse_power_on(r, "plus1pm-dump/events/rpc", R"({"method":"NotifyEvent","params":{"events":7}})"));
}

TEST_CASE("power-on state: Shelly Gen1, ESPHome and generic relays say why shackd cannot read it, and what to do") {
  RelayConfig g1;
  g1.protocol = RelayProtocol::shelly_gen1;
  g1.topic = "shelly1-AABBCC";
  g1.channel = 0;
  CHECK(power_on_unreadable(g1).find("HTTP only") != std::string::npos);
  CHECK(power_on_unreadable(g1).find("default_state=off") != std::string::npos);
  CHECK_FALSE(power_on_query(g1, 1));
  CHECK_FALSE(power_on_set_off(g1, 1));
  RelayConfig e;
  e.protocol = RelayProtocol::esphome;
  e.topic = "node";
  e.object_id = "relay";
  CHECK(power_on_unreadable(e).find("restore_mode: ALWAYS_OFF") != std::string::npos);
  CHECK_FALSE(power_on_query(e, 1));
  RelayConfig g;
  g.protocol = RelayProtocol::generic;
  CHECK_FALSE(power_on_unreadable(g).empty());
  CHECK(power_on_subscriptions(g).empty());
}

// Issue 56: the link's reconnect policy (drivers/mqtt/reconnect.hpp) and the broker's address.
TEST_CASE("reconnect: a try within the cap while the broker is away, jittered; a refusal slowly, to its own cap") {
  using namespace std::chrono_literals;
  drivers::mqtt::Backoff b(drivers::mqtt::ReconnectPolicy{}, 12345);
  std::set<long long> seen;
  for (int i = 0; i < 200; ++i) {
    const auto w = b.after_failure(false);
    CHECK(w >= 1ms);
    CHECK(w <= 500ms);
    if (i > 10) CHECK(w >= 250ms);  // at the cap: over its upper half
    seen.insert(w.count());
  }
  CHECK(seen.size() > 20);  // jittered, not in step with anything periodic
  const auto lost = b.after_loss();
  CHECK(lost >= 25ms);
  CHECK(lost <= 50ms);
  b.connected();
  CHECK(b.after_failure(false) <= 50ms);  // a new outage starts from the first wait again
  drivers::mqtt::Backoff r(drivers::mqtt::ReconnectPolicy{}, 7);
  std::chrono::milliseconds last{0};
  for (int i = 0; i < 30; ++i) last = r.after_failure(true);
  CHECK(last >= 15000ms);
  CHECK(last <= 30000ms);
}

TEST_CASE("the broker's address: tcp:// and ssl://, a name, IPv4 or bracketed IPv6, the port or its default") {
  std::string why;
  auto a = drivers::mqtt::parse_broker_uri("tcp://192.168.1.5:1884", why);
  REQUIRE(a);
  CHECK(a->host == "192.168.1.5");
  CHECK(a->port == 1884);
  CHECK_FALSE(a->tls);
  a = drivers::mqtt::parse_broker_uri("ssl://broker.lan", why);
  REQUIRE(a);
  CHECK(a->port == 8883);
  CHECK(a->tls);
  a = drivers::mqtt::parse_broker_uri("tcp://[fd00::5]:1883", why);
  REQUIRE(a);
  CHECK(a->host == "fd00::5");
  for (const char* bad : {"mqtt://x:1883", "tcp://:1883", "tcp://x:0", "tcp://x:99999", "tcp://x:12a", "tcp://[fd00::5"}) {
    CAPTURE(bad);
    why.clear();
    CHECK_FALSE(drivers::mqtt::parse_broker_uri(bad, why));
    CHECK_FALSE(why.empty());
  }
}
