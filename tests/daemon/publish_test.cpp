// The JSON shackd publishes and the Home Assistant discovery payloads.
#include <doctest/doctest.h>

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>
#include <nlohmann/json.hpp>

#include <set>

#include "daemon/cli/relay_power_on.hpp"
#include "daemon/devices/device_alarms.hpp"
#include "daemon/publish/ha_discovery.hpp"
#include "daemon/publish/cycle_publisher.hpp"
#include "daemon/publish/mailbox.hpp"
#include "daemon/vocab/miner_state.hpp"
#include "daemon/publish/publisher.hpp"
#include "daemon/vocab/publish.hpp"
#include "daemon/system/host_health.hpp"
#include "daemon/text/json_out.hpp"
#include "drivers/mqtt/lanes.hpp"
#include "drivers/mqtt/power_on_watch.hpp"
#include "rules/decide.hpp"
#include "rules/host_health.hpp"
#include "tests/support/fake_link.hpp"
#include "tests/support/fake_pi.hpp"
#include "tests/support/shack_profiles.hpp"

using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {
shackd::StoredProfiles shack() { return test::shack_profiles(); }
}  // namespace

TEST_CASE("loads are named by their relay ids") {
  const auto loads = shackd::load_refs(shack());
  REQUIRE(loads.size() == 6);
  CHECK(loads[0].id == "primary_s21");
  CHECK(loads[0].state_key == "miner:Primary S21+");
  CHECK(loads[2].id == "heat_room_fan");
  CHECK(loads[2].name == "Heat Room fan");
  CHECK(loads[5].id == "main_room_heater");
}

TEST_CASE("state, decision and reason JSON: values with ages, missing as null, SOC labelled estimated") {
  const auto p = shack();
  rules::Snapshot s;
  s.now = rules::SteadyTime{} + 1000h;
  s.local_minute_of_day = 720;
  s.battery_v = {{"battery_monitor", "the battery monitor's voltage", rules::Reading{52.3, s.now - 2s}}};
  s.pv_w = rules::Reading{8450, s.now - 1s};
  s.battery_a = rules::Reading{-10, s.now};
  s.zone_temp_c = {rules::Reading{25, s.now - 30s}, std::nullopt};
  const auto d = rules::decide(s, p.rules, {});
  const json st = json::parse(shackd::state_json(s, d, p));
  CHECK(st["battery_v"] == 52.3);
  CHECK(st["battery_v_age_s"] == 2.0);
  CHECK(st["voltage_source"] == "battery_monitor");
  CHECK(st["soc_pct_estimated"].get<double>() == doctest::Approx(65.3));
  CHECK(st["pv_w"]["value"] == 8450);
  CHECK(st["pv_w"]["age_s"] == 1.0);
  CHECK(st["load_w"]["value"].is_null());  // missing: null, not 0
  CHECK(st["battery_w"]["value"] == -523);
  CHECK(st["zones_c"]["Heat Room"]["value"] == 25);
  CHECK(st["zones_c"]["Main Room"]["value"].is_null());
  CHECK(st["band"] == "optimal");

  const json dec = json::parse(shackd::decision_json(d, shackd::load_refs(p)));
  REQUIRE(dec["loads"].size() == 6);
  CHECK(dec["loads"][1]["id"] == "dump_s19_1");
  // The dump load needs the load reading, which is missing: stale, not a 0 W surplus.
  CHECK(dec["loads"][1]["reason"]["name"] == "stale_input");
  CHECK(dec["loads"][1]["reason"]["code"] == 52);
  CHECK(dec["loads"][0]["reason"]["name"] == "start_delay_pending");
  CHECK(dec["loads"][0]["reason"]["text"] == "start condition holds, waiting: 52.30 V (limit 50.00 V), 60 s left");

  rules::Reason pending{rules::ReasonCode::stop_delay_pending, rules::ReasonCode::below_stop_voltage, 46.9, 47, 90s};
  const json r = json::parse(shackd::reason_json(pending));
  CHECK(r["cause"] == "below_stop_voltage");
  CHECK(r["remaining_s"] == 90);

  const json ev = json::parse(shackd::event_json("override_rejected", "primary_s21", {rules::ReasonCode::none},
                                                 "payload 'maybe' is not auto, on or off", 1795000000));
  CHECK(ev["kind"] == "override_rejected");
  setenv("TZ", "America/Los_Angeles", 1);
  tzset();
  CHECK(shackd::local_iso(1795000000) == "2026-11-18T03:06:40-08:00");
  setenv("TZ", "UTC", 1);
  tzset();
  CHECK(ev["at"].is_string());
  CHECK(ev["detail"] == "payload 'maybe' is not auto, on or off");

  drivers::DeviceHealth h;
  h.connected = true;
  h.last_success = s.now - 3s;
  h.identity = {"solark: device type 0x0999, which the public maps do not name: read as configured"};
  const json hj = json::parse(shackd::health_json(h, s.now));
  CHECK(hj["connected"] == true);
  CHECK(hj["last_success_age_s"] == 3.0);
  CHECK(hj["identity"] == json::array({h.identity[0]}));  // the Deye family's device type, said
}

namespace {
// The rules of Home Assistant's MQTT discovery docs (sensor, binary_sensor, select; HA 2025.10+):
// the device classes and the units each allows, the state classes, and the keys each needs.
const std::map<std::string, std::set<std::string>> kSensorUnits = {
    {"voltage", {"V", "mV", "kV", "µV", "MV"}},
    {"power", {"W", "kW", "MW", "GW", "TW", "mW", "BTU/h"}},
    {"temperature", {"°C", "°F", "K"}},
    {"battery", {"%"}},
    {"energy", {"Wh", "kWh", "MWh", "GWh", "TWh", "MJ", "GJ", "cal", "kcal", "Mcal", "Gcal", "mWh"}}};
const std::set<std::string> kStateClasses = {"measurement", "measurement_angle", "total", "total_increasing"};
const std::set<std::string> kBinaryClasses = {"battery", "battery_charging", "cold", "connectivity", "door", "heat",
                                              "plug", "power", "problem", "running", "safety", "update"};

// The keys each platform's schema accepts (HA MQTT docs: the entity base, then sensor,
// binary_sensor, select): HA refuses a discovery payload with a key its schema does not know, so
// a typo loses the entity. And the keys each one needs.
const std::set<std::string> kBaseKeys = {
    "availability", "availability_mode", "availability_template", "availability_topic", "default_entity_id",
    "device", "enabled_by_default", "encoding", "entity_category", "entity_picture", "icon",
    "json_attributes_template", "json_attributes_topic", "name", "origin", "payload_available",
    "payload_not_available", "platform", "qos", "unique_id", "value_template"};
const std::map<std::string, std::set<std::string>> kPlatformKeys = {
    {"sensor", {"device_class", "expire_after", "force_update", "last_reset_value_template", "options",
                "state_class", "state_topic", "suggested_display_precision", "unit_of_measurement"}},
    {"binary_sensor", {"device_class", "expire_after", "force_update", "off_delay", "payload_off", "payload_on",
                       "state_topic"}},
    {"select", {"command_template", "command_topic", "optimistic", "options", "retain", "state_topic"}},
    {"number", {"command_template", "command_topic", "device_class", "max", "min", "mode", "optimistic",
                "payload_reset", "retain", "state_topic", "step", "unit_of_measurement"}}};
const std::map<std::string, std::vector<std::string>> kRequiredKeys = {
    {"sensor", {"state_topic"}}, {"binary_sensor", {"state_topic"}}, {"select", {"command_topic", "options"}},
    {"number", {"command_topic"}}};
const std::set<std::string> kDeviceKeys = {"configuration_url", "connections", "hw_version", "identifiers",
                                           "manufacturer", "model", "model_id", "name", "serial_number",
                                           "suggested_area", "sw_version", "via_device"};

void check_ha_rules(const std::string& component, const json& c, const shackd::DiscoveryOptions& o) {
  REQUIRE(kPlatformKeys.count(component) == 1);
  // items() by element, not structured bindings: clang 14 cannot capture one in CHECK_MESSAGE.
  for (const auto& item : c.items()) {
    const std::string key = item.key();
    CHECK_MESSAGE((kBaseKeys.count(key) || kPlatformKeys.at(component).count(key)), component << " has no key " << key);
  }
  for (const auto& key : kRequiredKeys.at(component)) CHECK_MESSAGE(c.contains(key), component << " needs " << key);
  for (const auto& item : c["device"].items()) {
    const std::string key = item.key();
    CHECK_MESSAGE(kDeviceKeys.count(key), "device has no key " << key);
  }
  CHECK_FALSE(c["device"]["identifiers"].empty());
  CHECK_FALSE(c.contains("object_id"));  // ignored since HA 2026.4
  const std::string id = c["default_entity_id"].get<std::string>();
  CHECK(id.rfind(component + "." + o.node_id + "_", 0) == 0);
  CHECK(id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_.") == std::string::npos);
  CHECK(c["availability_topic"] == o.prefix + "/status");
  CHECK(c["payload_available"] == "online");
  CHECK(c["payload_not_available"] == "offline");
  CHECK(c.contains("state_topic"));
  if (c.contains("expire_after")) CHECK(c["expire_after"].get<int>() > 0);
  if (c.contains("json_attributes_template")) CHECK(c.contains("json_attributes_topic"));
  if (component == "sensor" && c.contains("device_class")) {
    const auto dc = c["device_class"].get<std::string>();
    REQUIRE(kSensorUnits.count(dc) == 1);
    CHECK(kSensorUnits.at(dc).count(c["unit_of_measurement"].get<std::string>()) == 1);
    CHECK(kStateClasses.count(c["state_class"].get<std::string>()) == 1);
    // Energy only totals; the others are momentary.
    CHECK((dc == "energy") == (c["state_class"] != "measurement"));
  }
  if (component == "number") {
    // A number's device class allows the sensor's units; min < max, a step that fits, a mode HA has.
    if (c.contains("device_class")) {
      CHECK(kSensorUnits.at(c["device_class"].get<std::string>()).count(c["unit_of_measurement"].get<std::string>()) == 1);
    }
    CHECK(c["min"].get<double>() < c["max"].get<double>());
    CHECK(c["step"].get<double>() > 0);
    CHECK(c["step"].get<double>() <= c["max"].get<double>() - c["min"].get<double>());
    CHECK((c["mode"] == "auto" || c["mode"] == "box" || c["mode"] == "slider"));
    if (c.contains("entity_category")) CHECK((c["entity_category"] == "config" || c["entity_category"] == "diagnostic"));
  }
  if (component == "binary_sensor" && c.contains("device_class")) {
    CHECK(kBinaryClasses.count(c["device_class"].get<std::string>()) == 1);
  }
}
}  // namespace

TEST_CASE("Home Assistant discovery payloads follow the discovery rules and name what matters") {
  const auto p = shack();
  const shackd::DiscoveryOptions o{.prefix = "shack",
                                   .discovery_prefix = "homeassistant",
                                   .node_id = "shackd",
                                   .site_name = "Solar Shack",
                                   .version = "0.1.0",
                                   .expire_after_s = 30,
                                   .devices = {"victron", "solark"},
                                   .settings = {},
                                   .miners = {{"primary_s21", "Primary S21+", 30}}};
  const auto msgs = shackd::discovery_messages(p, shackd::load_refs(p), o);
  std::set<std::string> miner_keys;
  int sensors = 0, binary = 0, selects = 0, reasons = 0, problems = 0, expiring = 0, energy = 0;
  std::set<std::string> ids, entity_ids;
  for (const auto& m : msgs) {
    CAPTURE(m.topic);
    const json c = json::parse(m.payload);
    const std::string component = m.topic.substr(14, m.topic.find('/', 14) - 14);
    CHECK(m.topic.rfind("homeassistant/" + component + "/shackd/", 0) == 0);
    CHECK(m.topic.substr(m.topic.size() - 7) == "/config");
    CHECK(ids.insert(c["unique_id"].get<std::string>()).second);
    CHECK(entity_ids.insert(c["default_entity_id"].get<std::string>()).second);
    CHECK(c["device"]["identifiers"][0] == "shackd");
    CHECK(c.contains("name"));
    check_ha_rules(component, c, o);
    if (c.contains("expire_after")) {
      ++expiring;
      // <prefix>/ac/<id> goes out on news and every 60 s: two of those more (issue 59).
      CHECK(c["expire_after"] == (c["state_topic"].get<std::string>().starts_with("shack/ac/") ? 150 : 30));
    }
    if (component == "sensor") {
      ++sensors;
      CHECK(c.contains("value_template"));
      if (c["state_topic"] == "shack/load/primary_s21/miner") miner_keys.insert(c["value_template"].get<std::string>());
      if (c["unique_id"].get<std::string>().find("_reason") != std::string::npos) ++reasons;
      if (c.value("device_class", "") == "energy") {
        // The Energy dashboard takes energy in kWh as total or total_increasing.
        ++energy;
        CHECK(c["state_class"] == "total_increasing");
        CHECK(c["unit_of_measurement"] == "kWh");
        const auto topic = c["state_topic"].get<std::string>();
        CHECK((topic.ends_with("/energy") || topic.starts_with("shack/energy/")));
        CHECK(c["value_template"] == "{{ value_json.today_kwh }}");
        CHECK_FALSE(c.contains("expire_after"));  // a day's total stays true when shackd pauses
      }
    } else if (component == "binary_sensor") {
      ++binary;
      if (c.value("device_class", "") == "problem") ++problems;
    } else if (component == "select") {
      ++selects;
      CHECK(c["command_topic"].get<std::string>().find("/mode/set") != std::string::npos);
      CHECK(c["options"] == json::array({"auto", "on", "off"}));
      CHECK(c["retain"] == false);
    } else {
      FAIL("unexpected component " << component);
    }
  }
  // voltage, SOC, PV, load, battery power, battery temperature, 2 zones, the charge decision,
  // the devices' alarms, a reason and an energy today per load (6), and the energy today of PV,
  // of the battery's charge and of its discharge, the miner's own word (6), and the one AC
  // source's load and rating
  CHECK(sensors == 8 + 1 + 1 + 6 + 6 + 3 + 6 + 2);
  CHECK(miner_keys == std::set<std::string>{"{{ value_json.power_w }}", "{{ value_json.hashrate_ths }}",
                                            "{{ value_json.max_temp_c }}", "{{ value_json.fan_rpm }}",
                                            "{{ value_json.power_target_w }}", "{{ value_json.state }}"});
  CHECK(energy == 6 + 3);
  CHECK(reasons == 1 + 6);
  // relays and their power-on behaviour, charge block + alarm + device alarm, a problem per
  // device, whether a generator feeds the site, and the AC source's overload
  CHECK(binary == 6 + 6 + 3 + 2 + 1 + 1);
  CHECK(problems == 6 + 3 + 2 + 1);
  CHECK(selects == 6);
  // everything read from shack/state, the miner's word, and the AC source's load and overload
  CHECK(expiring == 8 + 1 + 2 + 1 + 6 + 2);
  CHECK(shackd::slug("Dump Load S19 #1") == "dump_load_s19_1");
}

TEST_CASE("settings over MQTT: a number entity per offered value, valid for HA, reading the settings topic") {
  const auto p = shack();
  const auto loads = shackd::load_refs(p);
  // The config file gives the primary's start voltage: not offered.
  const YAML::Node section = YAML::Load("miners:\n  - name: \"Primary S21+\"\n    start_voltage: 50.0\n");
  std::vector<std::string> kept;
  const auto offered = shackd::offered_settings(p, loads, section, &kept);
  REQUIRE(kept.size() == 1);
  CHECK(kept[0].starts_with("Primary S21+ start_voltage (profiles.miners[0].start_voltage"));
  CHECK(offered.size() == 2 * 2 - 1);  // two miners, two fields each, one the file's
  shackd::DiscoveryOptions o;
  o.settings = offered;
  int numbers = 0;
  for (const auto& m : shackd::discovery_messages(p, loads, o)) {
    if (m.topic.find("/number/") == std::string::npos) continue;
    CAPTURE(m.topic);
    const json c = json::parse(m.payload);
    check_ha_rules("number", c, o);
    ++numbers;
    const std::string topic = c["command_topic"];
    const auto target = shackd::setting_topic("shack", topic);  // what shackd subscribes to reads it back
    REQUIRE(target);
    CHECK(c["state_topic"] == "shack/load/" + target->first + "/settings");
    CHECK(c["value_template"] == "{{ value_json." + target->second + " }}");
    CHECK(c["retain"] == false);  // a retained set would be applied again at every reconnect
  }
  CHECK(numbers == 3);
  // The settings JSON has the fields the templates read.
  const json st = json::parse(shackd::miner_settings_json(p, 0));
  for (const auto& f : shackd::settable_fields()) CHECK(st.contains(f));
  // Topics: only the settable fields, one level of id.
  CHECK_FALSE(shackd::setting_topic("shack", "shack/load/primary_s21/emergency_stop_voltage/set"));
  CHECK_FALSE(shackd::setting_topic("shack", "shack/load/a/b/start_voltage/set"));
  CHECK_FALSE(shackd::setting_topic("shack", "shack/load//start_voltage/set"));
  CHECK_FALSE(shackd::setting_topic("shack", "other/load/primary_s21/start_voltage/set"));
}

TEST_CASE("device alarms: what the templates read, warnings apart from alarms, states by name") {
  shackd::DeviceAlarmWatch w;
  drivers::DeviceStatus s;
  s.alarms = {{"battery.low_cell_voltage", "victron", "battery.alarm_low_cell_voltage", "a cell's voltage is low", false},
              {"solark.F35", "solark", "solark.fault_word_3", "F35 no AC grid", true}};
  s.states = {{"charger1.charge_state", "bulk"}};
  const auto raised = w.update(s);
  CHECK(raised.size() == 2);
  const json j = json::parse(shackd::device_alarms_json(w));
  CHECK(j["count"]["alarm"] == 1);
  CHECK(j["count"]["warning"] == 1);
  REQUIRE(j["alarms"].size() == 2);
  CHECK(j["alarms"][0]["id"] == "battery.low_cell_voltage");
  CHECK(j["alarms"][0]["level"] == "alarm");
  CHECK(j["alarms"][0]["text"] == "a cell's voltage is low");
  CHECK(j["alarms"][1]["level"] == "warning");
  CHECK(j["states"]["charger1.charge_state"] == "bulk");
  CHECK(shackd::describe(raised[0]) == "victron battery.low_cell_voltage: a cell's voltage is low");

  // The same again: nothing new. Its device silent: kept. A fresh "no alarm": cleared, told once.
  CHECK(w.update(s).empty());
  drivers::DeviceStatus silent;
  silent.unknown = {"battery.alarm_low_cell_voltage", "solark.fault_word_3"};
  CHECK(w.update(silent).empty());
  CHECK(w.active().size() == 2);
  const auto cleared = w.update(drivers::DeviceStatus{});
  REQUIRE(cleared.size() == 2);
  CHECK_FALSE(cleared[0].raised);
  CHECK(shackd::describe(cleared[1]) == "solark solark.F35: F35 no AC grid (warning) cleared");
  CHECK(json::parse(shackd::device_alarms_json(w))["alarms"].empty());
}

TEST_CASE("the discovery templates read fields the published JSON has") {
  const auto p = shack();
  rules::Snapshot s;
  s.now = rules::SteadyTime{} + 1000h;
  const auto d = rules::decide(s, p.rules, {});
  const json st = json::parse(shackd::state_json(s, d, p));
  for (const char* k : {"battery_v", "soc_pct_estimated", "pv_w", "load_w", "battery_w", "battery_temp_c",
                        "block_charging", "charge_reason", "alarms", "zones_c"}) {
    CHECK_MESSAGE(st.contains(k), k);
  }
  CHECK(st["charge_reason"].contains("text"));
  CHECK(st["generator_running"].is_null());  // not known
  rules::Snapshot gen = s;
  gen.generator_running = rules::Reading{1, s.now};
  CHECK(json::parse(shackd::state_json(gen, d, p))["generator_running"] == true);
  CHECK_FALSE(st["pv_w"].contains("partial"));
  s.pv_w = rules::Reading{2500, s.now};
  s.pv_w_partial = true;
  const json partial = json::parse(shackd::state_json(s, rules::decide(s, p.rules, {}), p));
  CHECK(partial["pv_w"]["value"] == 2500);
  CHECK(partial["pv_w"]["partial"] == true);
  const json r = json::parse(shackd::reason_json(d.miners.at(0).reason));
  CHECK(r.contains("text"));
}

TEST_CASE("names with quotes, backslashes and control characters stay valid JSON") {
  auto p = shack();
  p.rules.zones[1].name = "Shed \"B\" \\ east\n\t\x01";
  rules::Snapshot s;
  s.now = rules::SteadyTime{} + 1000h;
  s.zone_temp_c = {std::nullopt, rules::Reading{12.25, s.now}};
  const auto d = rules::decide(s, p.rules, {});
  const json st = json::parse(shackd::state_json(s, d, p));
  CHECK(st["zones_c"]["Shed \"B\" \\ east\n\t\x01"]["value"] == 12.3);
  CHECK(st["battery_v"].is_null());
  const json dec = json::parse(shackd::decision_json(d, shackd::load_refs(p)));
  CHECK(dec["loads"][4]["name"] == "Shed \"B\" \\ east\n\t\x01 fan");
}

// json_out's strings, escaped in runs (issue 57): every ASCII character, alone, between plain
// text, at either end, as nlohmann reads it back; UTF-8 passes through unchanged.
TEST_CASE("json_out: every ASCII character escaped or passed through, alone or among plain runs") {
  for (int c = 0; c < 0x80; ++c) {
    const std::string ch(1, static_cast<char>(c));
    for (const std::string& text : {ch, "ab" + ch, ch + "cd", "ab" + ch + ch + "cd"}) {
      std::string out;
      shackd::json_out::string(out, text);
      INFO("character ", c);
      CHECK(json::parse(out).get<std::string>() == text);
    }
  }
  std::string out;
  shackd::json_out::string(out, "Sh\xc3\xa9" "d \"B\"");
  CHECK(out == "\"Sh\xc3\xa9" "d \\\"B\\\"\"");
  out.clear();
  shackd::json_out::string(out, "");
  CHECK(out == "\"\"");
}

// The controller's own health (issue 47): an entity for each thing the machine says, valid for
// Home Assistant, each reading shack/host; none where the machine says nothing (a PC's only one is
// its write rate).
TEST_CASE("Home Assistant discovery: the controller's health entities, each only where the machine has it") {
  const auto p = shack();
  shackd::DiscoveryOptions o{.prefix = "shack",
                             .discovery_prefix = "homeassistant",
                             .node_id = "shackd",
                             .site_name = "Solar Shack",
                             .version = "0.1.0",
                             .expire_after_s = 30,
                             .devices = {},
                             .settings = {},
                             .miners = {},
                             .host = {.flags = true, .temperature = true, .storage = true, .writes = true}};
  const auto count_host = [&](const shackd::DiscoveryOptions& opts) {
    std::set<std::string> objects;
    for (const auto& m : shackd::discovery_messages(p, shackd::load_refs(p), opts)) {
      const json c = json::parse(m.payload);
      if (c["state_topic"] != "shack/host") continue;
      const std::string component = m.topic.substr(14, m.topic.find('/', 14) - 14);
      CAPTURE(m.topic);
      check_ha_rules(component, c, opts);
      if (component == "binary_sensor") {
        CHECK(c["device_class"] == "problem");
        // The template reads the alarm's code from the published list.
        const std::string tpl = c["value_template"].get<std::string>();
        CHECK(tpl.find("in value_json.alarms") != std::string::npos);
      }
      objects.insert(c["unique_id"].get<std::string>());
    }
    return objects;
  };
  const auto all = count_host(o);
  CHECK(all == std::set<std::string>{"shackd_controller_under_voltage", "shackd_controller_throttled", "shackd_controller_hot",
                                     "shackd_controller_temperature", "shackd_controller_storage_worn",
                                     "shackd_controller_heavy_writes", "shackd_controller_write_rate"});
  // Each alarm the rules raise has its problem entity, named as its code.
  for (std::size_t i = 0; i < rules::kHostAlarms; ++i) {
    CHECK(all.count(std::string("shackd_") + rules::host_alarm_name(static_cast<rules::HostAlarm>(i))) == 1);
  }
  o.host = {.flags = false, .temperature = false, .storage = false, .writes = true};  // a PC
  CHECK(count_host(o) == std::set<std::string>{"shackd_controller_heavy_writes", "shackd_controller_write_rate"});
  o.host = {};
  CHECK(count_host(o).empty());
}

// What `status` makes of the retained power_on and host documents (daemon/cli/relay_power_on.hpp,
// daemon/system/host_health.hpp): a warning with the fix for a relay that comes back ON, nothing
// for one that stays off or has not answered yet; whatever a client left retained never crashes it.
TEST_CASE("status lines from the published power-on and host documents; hostile ones give nothing") {
  drivers::mqtt::RelayConfig r;
  r.id = "primary_s21";
  r.protocol = drivers::mqtt::RelayProtocol::tasmota;
  r.topic = "miner1";
  drivers::mqtt::PowerOnStatus st;
  CHECK(shackd::power_on_status_lines("Primary S21+", "primary_s21", drivers::mqtt::power_on_json(r, st)).empty());  // asking
  st.state = drivers::mqtt::tasmota_power_on(3);
  const auto lines = shackd::power_on_status_lines("Primary S21+", "primary_s21", drivers::mqtt::power_on_json(r, st));
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].starts_with("WARNING relay primary_s21 (Primary S21+): comes back ON by itself after a power cut: "));
  CHECK(lines[0].find("`shackd relays power-on-off` sets it to stay OFF (PowerOnState 0") != std::string::npos);
  st.state = drivers::mqtt::tasmota_power_on(0);
  CHECK(shackd::power_on_status_lines("Primary S21+", "primary_s21", drivers::mqtt::power_on_json(r, st)).empty());
  r.protocol = drivers::mqtt::RelayProtocol::esphome;
  drivers::mqtt::PowerOnStatus esp;
  esp.unreadable = drivers::mqtt::power_on_unreadable(r);
  const auto note = shackd::power_on_status_lines("Fan", "fan", drivers::mqtt::power_on_json(r, esp));
  REQUIRE(note.size() == 1);
  CHECK(note[0].starts_with("note: relay fan (Fan): power-on state not readable: ESPHome"));
  for (const char* hostile : {"", "not json", "[]", "{\"risk\":7,\"text\":[1]}", "{\"risk\":\"on\"}", "\xff\xfe",
                              "{\"risk\":\"on\",\"text\":\"\\ud800\"}"}) {
    CAPTURE(hostile);
    CHECK(shackd::power_on_status_lines("x", "x", hostile).size() <= 1);
    CHECK(shackd::host_status_lines(hostile).empty());
  }
  CHECK(shackd::host_status_lines(R"({"soc_temp_c":86.0,"under_voltage":true,"throttled":true,"shedding":true,"alarms":["controller_hot"]})") ==
        std::vector<std::string>{"controller: 86.0 °C, UNDER-VOLTAGE, THROTTLED, LOADS SHED for its heat; ALARM controller_hot"});
  CHECK(shackd::host_status_lines(R"({"soc_temp_c":"hot","alarms":[1,{"a":2}]})").empty());
}

// --- The publisher (issue 44, item 2): a mailbox where the newest cycle wins, a thread of its own.

TEST_CASE("publisher's mailbox: the newest wins, what the older asked for goes on with it, each replaced one counted") {
  shackd::LatestMailbox<std::pair<int, bool>> box;  // (the view's number, "everything")
  const auto merge = [](std::pair<int, bool>&& older, std::pair<int, bool>& newer) { newer.second |= older.second; };
  CHECK_FALSE(box.take());
  CHECK_FALSE(box.put({1, true}, merge));
  CHECK(box.put({2, false}, merge));
  CHECK(box.put({3, false}, merge));
  CHECK(box.coalesced() == 2);
  CHECK(box.put_count() == 3);
  const auto v = box.take();
  REQUIRE(v);
  CHECK(v->first == 3);
  CHECK(v->second);  // view 1's "everything" was not lost with it
  CHECK(box.empty());
  CHECK_FALSE(box.take());
  CHECK_FALSE(box.put({4, false}));  // taken: nothing to replace
  CHECK(box.coalesced() == 2);
}

namespace {

// A link that hands each message to a recording sink: a fake at the publisher's seam, the bulk
// lane (drivers/mqtt/lanes.hpp), as the daemon's tests use FakeLink.
using Sink = std::function<void(const std::string& topic, const std::string& payload)>;
class SinkLink final : public drivers::mqtt::Link {
 public:
  explicit SinkLink(Sink sink) : sink_(std::move(sink)) {}
  void start() override {}
  void shutdown(std::chrono::milliseconds) override {}
  void subscribe(const std::string&) override {}
  bool publish(const std::string& topic, const std::string& payload, int, bool) override {
    sink_(topic, payload);
    return true;
  }
  std::optional<drivers::mqtt::Event> poll(std::chrono::milliseconds) override { return std::nullopt; }
  bool connected() const override { return true; }

 private:
  Sink sink_;
};

// The bulk lane to `link`, held by a holder of its own (the daemon's MqttLinks in production).
drivers::mqtt::BulkLane lane_to(std::shared_ptr<drivers::mqtt::Link> link) {
  auto holder = std::make_shared<drivers::mqtt::LinkHolder>();
  holder->put(std::move(link));
  return drivers::mqtt::BulkLane(holder);
}

// A publisher that sends to `sink`, with the message limit given.
std::unique_ptr<shackd::Publisher> publisher_to(Sink sink, std::size_t limit = shackd::Publisher::kMessageLimit) {
  auto pub = std::make_unique<shackd::Publisher>(limit);
  pub->set_lane(lane_to(std::make_shared<SinkLink>(std::move(sink))));
  return pub;
}

// A cycle view the publisher can render: no loads, the battery at `battery_v`.
shackd::CycleFacts facts(double battery_v, bool everything = false, rules::SteadyTime now = {}) {
  auto r = std::make_shared<shackd::CycleRecord>();
  r->site = std::make_shared<const shackd::CoreSite>();
  r->now = now;
  r->decision.battery.measured_v = battery_v;
  shackd::CycleFacts f;
  f.prefix = "p";
  f.record = std::move(r);
  f.everything = everything;
  return f;
}

// A recording sink whose publish of "p/state" waits at a gate while it is shut (a stalled link).
struct GatedSink {
  std::mutex m;
  std::condition_variable cv;
  bool shut = false;
  int held = 0;
  bool timed_out = false;
  std::vector<std::pair<std::string, std::string>> sent;
  void operator()(const std::string& topic, const std::string& payload) {
    std::unique_lock l(m);
    sent.emplace_back(topic, payload);
    if (topic != "p/state" || !shut) return;
    ++held;
    cv.notify_all();
    if (!cv.wait_for(l, 20s, [&] { return !shut; })) timed_out = true;
    --held;
  }
  bool wait_held() {
    std::unique_lock l(m);
    return cv.wait_for(l, 10s, [&] { return held == 1; });
  }
  void open() {
    {
      std::lock_guard l(m);
      shut = false;
    }
    cv.notify_all();
  }
  std::vector<std::string> payloads(const std::string& topic) {
    std::lock_guard l(m);
    std::vector<std::string> out;
    for (const auto& [t, p] : sent) {
      if (t == topic) out.push_back(p);
    }
    return out;
  }
};

}  // namespace

TEST_CASE("publisher: a stalled link holds its thread, never the caller; the views it missed are coalesced and counted, the newest sent") {
  auto sink = std::make_shared<GatedSink>();
  sink->shut = true;
  auto owned = publisher_to([sink](const std::string& t, const std::string& p) { (*sink)(t, p); });
  shackd::Publisher& pub = *owned;
  pub.start_thread();
  pub.post(facts(50.0, true));
  REQUIRE(sink->wait_held());  // its thread is in the stalled publish
  for (int i = 1; i <= 5; ++i) pub.post(facts(50.0 + i));  // each returns at once
  pub.send("p/other", "after the views", false);
  auto st = pub.stats();
  CHECK(st.views == 6);
  CHECK(st.coalesced == 4);  // the 2nd to the 5th, replaced before the thread took them
  CHECK(st.published == 0);
  CHECK(st.lost() == 4);
  sink->open();
  REQUIRE(pub.settle(10s));
  st = pub.stats();
  CHECK(st.published == 2);
  CHECK_FALSE(sink->timed_out);
  const auto states = sink->payloads("p/state");
  REQUIRE(states.size() == 2);
  CHECK(json::parse(states[0])["battery_v"].get<double>() == doctest::Approx(50.0));
  CHECK(json::parse(states[1])["battery_v"].get<double>() == doctest::Approx(55.0));  // the newest won
  // Sent in the order handed over: the message after the newest view's messages.
  std::lock_guard l(sink->m);
  CHECK(sink->sent.back().first == "p/other");
}

TEST_CASE("publisher: without a thread it sends at once, in the order handed over; a full queue drops the oldest, counted") {
  std::vector<std::string> topics;
  auto owned = publisher_to([&](const std::string& t, const std::string&) { topics.push_back(t); }, 3);
  shackd::Publisher& pub = *owned;
  pub.send("p/a", "1", false);
  pub.post(facts(51.0, true));
  pub.send("p/b", "2", false);
  REQUIRE(topics.size() >= 4);
  CHECK(topics.front() == "p/a");
  CHECK(topics[1] == "p/state");
  CHECK(topics.back() == "p/b");
  CHECK(pub.stats().lost() == 0);
  // The whole view again only when asked: a reload's forget() or send_everything().
  CHECK(pub.take_everything());  // the first view goes whole
  CHECK_FALSE(pub.take_everything());
  pub.forget();
  CHECK(pub.take_everything());
}

TEST_CASE("publisher: the queue of other messages is bounded: past its limit the oldest go, counted") {
  auto sink = std::make_shared<GatedSink>();
  sink->shut = true;
  auto owned = publisher_to([sink](const std::string& t, const std::string& p) { (*sink)(t, p); }, 3);
  shackd::Publisher& pub = *owned;
  pub.start_thread();
  pub.post(facts(50.0));
  REQUIRE(sink->wait_held());
  for (int i = 0; i < 10; ++i) pub.send("p/m", std::to_string(i), false);
  CHECK(pub.stats().messages_dropped == 7);
  sink->open();
  REQUIRE(pub.settle(10s));
  CHECK(sink->payloads("p/m") == std::vector<std::string>{"7", "8", "9"});
}

TEST_CASE("publisher: losses that go on for a minute are an alarm, and its end once a minute passes without one") {
  auto sink = std::make_shared<GatedSink>();
  sink->shut = true;
  auto owned = publisher_to([sink](const std::string& t, const std::string& p) { (*sink)(t, p); });
  shackd::Publisher& pub = *owned;
  pub.start_thread();
  const auto t0 = rules::SteadyTime{} + 1h;
  pub.post(facts(50.0));
  REQUIRE(sink->wait_held());
  std::vector<shackd::PublisherNote> notes;
  for (int s = 0; s <= 61; ++s) {
    pub.post(facts(50.0));
    for (auto& n : pub.watch(t0 + std::chrono::seconds(s))) notes.push_back(std::move(n));
  }
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].kind == shackd::PublisherNote::Kind::alarm);
  CHECK(notes[0].text.starts_with("publish_lost: "));
  sink->open();
  REQUIRE(pub.settle(10s));
  notes.clear();
  for (int s = 62; s <= 130; ++s) {
    for (auto& n : pub.watch(t0 + std::chrono::seconds(s))) notes.push_back(std::move(n));
  }
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].kind == shackd::PublisherNote::Kind::alarm_end);
}

// <prefix>/host and the uplink's state go out from the publisher's own record of what the link
// took (CyclePublisher), from the copy of HostWatch's health the core hands over (CycleFacts): only
// when changed, again with everything, and a refused one again with the next view, unchanged or not
// (648101c: host_health's CI failure, <prefix>/host refused in the start's burst and never again).
TEST_CASE("cycle publisher: <prefix>/host and the uplink's state when changed or due; one the link refused goes again") {
  test::FakePi pi;
  shackd::HostHealth host(shackd::HostConfig{.enabled = true, .root = pi.root.string(), .limits = {},
                                              .interval = std::chrono::seconds(10)});
  const auto t0 = rules::SteadyTime{} + 1h;
  (void)host.sample(t0);
  REQUIRE(host.present());
  bool link_takes = true;
  std::vector<std::string> offered, taken;
  shackd::CyclePublisher cycle(
      [&](const std::string& topic, const std::string& payload, bool, int) {
        if (topic != "p/host" && topic != "p/site/s1/state") return true;
        offered.push_back(topic);
        if (link_takes) taken.push_back(topic + " " + payload);
        return link_takes;
      },
      "p");
  auto view = [&](rules::SteadyTime now, bool everything) {
    shackd::CycleFacts f = facts(52.0, everything, now);
    f.host = host;
    f.uplink = {true, std::chrono::seconds(60), "s1", "a site"};
    return f;
  };
  const auto count = [&](const std::string& topic) {
    return std::count(offered.begin(), offered.end(), topic);
  };
  cycle.publish(view(t0, true));
  CHECK(count("p/host") == 1);
  CHECK(count("p/site/s1/state") == 1);
  cycle.publish(view(t0 + 1s, false));  // unchanged, not due: neither again
  CHECK(count("p/host") == 1);
  CHECK(count("p/site/s1/state") == 1);
  cycle.publish(view(t0 + 2s, true));  // everything (a reconnect): both again
  CHECK(count("p/host") == 2);
  CHECK(count("p/site/s1/state") == 2);

  link_takes = false;  // paho's buffer full
  pi.throttled(0x1);   // under-voltage: the document changes
  (void)host.sample(t0 + 20s);
  cycle.publish(view(t0 + 70s, false));  // changed, and due: both offered, both refused
  CHECK(count("p/host") == 3);
  CHECK(count("p/site/s1/state") == 3);
  link_takes = true;
  const auto before = taken.size();
  cycle.publish(view(t0 + 71s, false));  // nothing new: what was refused goes again
  CHECK(count("p/host") == 4);
  CHECK(count("p/site/s1/state") == 4);
  REQUIRE(taken.size() == before + 2);
  CHECK(taken[before].find("\"under_voltage\":true") != std::string::npos);
  cycle.publish(view(t0 + 72s, false));  // taken: not again
  CHECK(count("p/host") == 4);
  CHECK(count("p/site/s1/state") == 4);
}

// <prefix>/load/<id>/power_on is rendered again only when what it says can change (the relay's
// config, the device's power-on state, unreadable, unanswered), and sent when that text changed,
// with everything, and again after the link refused it (issue 57: rendering it every cycle for
// every relay was a fifth of the daemon's instructions).
TEST_CASE("cycle publisher: a relay's power_on when it changed or with everything; one the link refused goes again") {
  auto site = std::make_shared<shackd::CoreSite>();
  site->loads = {{shackd::LoadRef::Kind::fan, 0, "fan1", "Fan", "fan:Room"}};
  drivers::mqtt::RelayConfig relay;
  relay.id = "fan1";
  relay.topic = "fan1";
  drivers::mqtt::PowerOnStatus status;  // asked, no answer yet
  bool link_takes = true;
  std::vector<std::string> offered, taken;
  shackd::CyclePublisher cycle(
      [&](const std::string& topic, const std::string& payload, bool, int) {
        if (topic != "p/load/fan1/power_on") return true;
        offered.push_back(payload);
        if (link_takes) taken.push_back(payload);
        return link_takes;
      },
      "p");
  auto view = [&](bool everything) {
    shackd::CycleFacts f = facts(52.0, everything);
    auto r = std::make_shared<shackd::CycleRecord>(*f.record);
    r->site = site;
    r->decision.zones.resize(1);
    r->decision.next.zones.resize(1);
    r->relays = true;
    r->relay["fan1"] = shackd::RelayFacts{true, std::make_shared<const drivers::mqtt::RelayConfig>(relay), status, {}, {}, {}};
    f.record = std::move(r);
    return f;
  };
  cycle.publish(view(true));
  REQUIRE(offered.size() == 1);
  CHECK(json::parse(offered[0])["risk"] == "asking");
  cycle.publish(view(false));  // unchanged: not again
  CHECK(offered.size() == 1);
  status.state = drivers::mqtt::tasmota_power_on(1);  // the device answered: ON after a cut
  status.answers = 1;
  cycle.publish(view(false));
  REQUIRE(offered.size() == 2);
  CHECK(json::parse(offered[1])["risk"] == "on");
  status.asked_at = rules::SteadyTime{} + 1h;  // asked again, the same answer: nothing new to say
  status.answers = 2;
  cycle.publish(view(false));
  CHECK(offered.size() == 2);

  link_takes = false;  // the link's window full
  status.state = drivers::mqtt::tasmota_power_on(0);  // set to stay OFF
  cycle.publish(view(false));
  CHECK(offered.size() == 3);
  link_takes = true;
  cycle.publish(view(false));  // unchanged, but refused last time: again
  REQUIRE(offered.size() == 4);
  CHECK(json::parse(offered[3])["risk"] == "off");
  CHECK(taken.size() == 3);
  cycle.publish(view(false));  // taken: not again
  CHECK(offered.size() == 4);
  cycle.publish(view(true));  // everything (a reconnect): again
  CHECK(offered.size() == 5);
  relay.full_topic = "%topic%/%prefix%/";  // a reload that changes the relay's config: rendered again, the same text
  cycle.publish(view(false));
  CHECK(offered.size() == 5);
}

// The queue's messages (a miner's word, the controller's leftovers): a retained one the link
// refused is not taken as sent; it goes again, first, at the next hand-over, unless a newer one for
// its topic came with it. The refusals are counted once, where the publisher sends.
TEST_CASE("publisher: a retained message the link refused goes again at the next hand-over; counted once") {
  test::FakeBroker broker;
  shackd::Publisher pub;  // it sends on the link through its bulk lane, as in production
  pub.set_lane(lane_to(std::make_shared<test::FakeLink>(broker)));
  const auto got = [&] {
    std::vector<std::string> out;
    for (const auto& m : broker.published) out.push_back(m.topic + "=" + m.payload);
    return out;
  };
  broker.refuse = 1;
  pub.send("p/load/m1/miner", "old", true);  // refused (paho's buffer full)
  CHECK(broker.published.empty());
  broker.refuse = 1;
  pub.send("p/event", "e", false);  // the next hand-over: the owed one first, refused again
  CHECK(got() == std::vector<std::string>{"p/event=e"});
  pub.send("p/status-once", "", true);  // and again: now it goes, before what came with it
  CHECK(got() == std::vector<std::string>{"p/event=e", "p/load/m1/miner=old", "p/status-once="});
  CHECK(pub.stats().refused == 2);  // counted once a refusal, here only

  broker.refuse = 1;
  pub.send("p/load/m1/miner", "a", true);  // refused
  pub.send("p/load/m1/miner", "b", true);  // a newer one for its topic: the older is not sent
  CHECK(got().back() == "p/load/m1/miner=b");
  CHECK(got().size() == 4);
  broker.refuse = 1;
  pub.send("p/decision", "superseded", false);  // not retained: refused, counted, not again
  pub.send("p/other", "x", false);
  CHECK(got().size() == 5);
  CHECK(got().back() == "p/other=x");
  CHECK(pub.stats().refused == 4);
  CHECK(pub.stats().messages_dropped == 0);
}

// publish_miner's JSON is the publisher's work: the fleet hands values (MinerStateFacts), rendered
// on the publisher's thread, in order with the other messages; a miner's hostile text that cannot
// be rendered is a failure of its own, and the messages after it still go.
TEST_CASE("publisher: a miner's state is rendered on the publisher's thread, in order; one that cannot be is a failure") {
  auto sink = std::make_shared<GatedSink>();
  std::mutex ids_m;
  std::vector<std::thread::id> ids;
  auto owned = publisher_to([&, sink](const std::string& t, const std::string& p) {
    {
      std::lock_guard g(ids_m);
      ids.push_back(std::this_thread::get_id());
    }
    (*sink)(t, p);
  });
  shackd::Publisher& pub = *owned;
  pub.start_thread();
  shackd::MinerStateFacts m;
  m.telemetry.answered = true;
  m.telemetry.state = drivers::miners::MinerState::mining;
  m.telemetry.firmware = "LUXminer 2025.6.2.1";
  m.telemetry.power_w = 3100.0;
  m.target_w = 2800.0;
  m.target_reason = {rules::ReasonCode::none};
  pub.send("p/a", "1", false);
  pub.send_miner("p/load/m1/miner", m);
  shackd::MinerStateFacts hostile = m;
  hostile.telemetry.firmware = std::string("LUX\xff\xfe");  // not UTF-8: nlohmann's dump throws
  pub.send_miner("p/load/m2/miner", hostile);
  pub.send("p/b", "2", false);
  REQUIRE(pub.settle(10s));
  {
    std::lock_guard g(sink->m);
    std::vector<std::string> topics;
    for (const auto& [t, p] : sink->sent) topics.push_back(t);
    CHECK(topics == std::vector<std::string>{"p/a", "p/load/m1/miner", "p/b"});
  }
  const auto miner = sink->payloads("p/load/m1/miner");
  REQUIRE(miner.size() == 1);
  const auto j = json::parse(miner[0]);
  CHECK(j["power_w"].get<double>() == doctest::Approx(3100.0));
  CHECK(j["target_w"].get<double>() == doctest::Approx(2800.0));
  CHECK(j["firmware"] == "LUXminer 2025.6.2.1");
  {
    std::lock_guard g(ids_m);
    for (const auto& id : ids) CHECK(id != std::this_thread::get_id());
  }
  const auto notes = pub.watch(rules::SteadyTime{} + 1h);
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].kind == shackd::PublisherNote::Kind::failure);
  CHECK(notes[0].text.find("p/load/m2/miner") != std::string::npos);
}

// Shadow mode (issue 60): an entity that says shackd switches nothing and one per load for its
// disagreement, each reading the retained document the comparison publishes; none in normal mode.
TEST_CASE("Home Assistant discovery: shadow mode's entities, only in shadow mode") {
  const auto p = shack();
  shackd::DiscoveryOptions o;
  const auto shadow_entities = [&](const shackd::DiscoveryOptions& opts) {
    std::set<std::string> objects;
    for (const auto& m : shackd::discovery_messages(p, shackd::load_refs(p), opts)) {
      const json c = json::parse(m.payload);
      if (c["state_topic"].get<std::string>().rfind("shack/shadow", 0) != 0) continue;
      CAPTURE(m.topic);
      const std::string component = m.topic.substr(14, m.topic.find('/', 14) - 14);
      check_ha_rules(component, c, opts);
      CHECK(component == "binary_sensor");
      objects.insert(c["unique_id"].get<std::string>());
      if (c["unique_id"] == "shackd_primary_s21_shadow") {
        CHECK(c["state_topic"] == "shack/shadow/primary_s21");
        CHECK(c["value_template"] == "{{ 'ON' if value_json.agree == false else 'OFF' }}");
      }
    }
    return objects;
  };
  CHECK(shadow_entities(o).empty());
  o.shadow = true;
  const auto objects = shadow_entities(o);
  CHECK(objects.count("shackd_shadow_mode") == 1);
  CHECK(objects.count("shackd_primary_s21_shadow") == 1);
  CHECK(objects.size() == 1 + shackd::load_refs(p).size());
}

// Each AC source against its rating (issue 59, part 5): Home Assistant's entities per source, and
// <prefix>/ac/<id>, which they read, published from the cycle's record when it changes.
namespace {
shackd::StoredProfiles ac_site() {
  auto p = shack();
  rules::AcSource inverter;
  inverter.name = "main";
  inverter.phases = 2;
  inverter.continuous_w = 4500;
  inverter.surge_w = 9000;  // the generator has none: no surge test, no surge entity
  rules::AcSource gen;
  gen.name = "gen";
  gen.kind = rules::AcSourceKind::generator;
  gen.continuous_w = 5000;
  p.rules.ac_sources = {inverter, gen};
  return p;
}

// A cycle on ac_site(): L1 of the inverter measured, its L2 stale and warning, the rules' verdict
// that L2 is overloaded this cycle (L1 was, ten seconds ago: held, not overloaded now); the
// generator running with its output measured.
shackd::CycleFacts ac_cycle(rules::SteadyTime t0, bool everything) {
  auto site = std::make_shared<shackd::CoreSite>();
  site->profiles = ac_site();  // no loads: this is about the sources
  auto r = std::make_shared<shackd::CycleRecord>();
  r->now = r->snap.now = t0;
  r->snap.ac.resize(2);
  r->snap.ac[0].phase[0].load_w = rules::Reading{3100.4, t0 - 1s};
  r->snap.ac[0].phase[1].load_w = rules::Reading{1200, t0 - 1h};
  r->snap.ac[0].phase[1].overload = rules::Reading{1, t0};
  r->snap.ac[0].overload = rules::Reading{0, t0};
  r->snap.ac[1].phase[0].load_w = rules::Reading{4200, t0};
  r->snap.generator_running = rules::Reading{1, t0};
  r->decision.next.site.ac[0][0].overload_at = t0 - 10s;
  r->decision.next.site.ac[0][1].overload_at = t0;
  r->site = std::move(site);
  shackd::CycleFacts f;
  f.prefix = "shack";
  f.record = std::move(r);
  f.everything = everything;
  return f;
}

// The fields a template reads: "{{ value_json.load_w_l1 }}" -> load_w_l1.
std::set<std::string> template_fields(const std::string& tpl) {
  std::set<std::string> out;
  for (std::size_t at = tpl.find("value_json."); at != std::string::npos; at = tpl.find("value_json.", at + 1)) {
    const std::size_t from = at + 11;
    out.insert(tpl.substr(from, tpl.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_", from) - from));
  }
  return out;
}
}  // namespace

TEST_CASE("Home Assistant: each AC source's load per phase, its rating and overload, a generator's running; the state they read") {
  const auto p = ac_site();
  shackd::DiscoveryOptions o;
  o.version = "0.1.0";
  o.expire_after_s = 30;
  std::map<std::string, json> ac;  // by unique id
  for (const auto& m : shackd::discovery_messages(p, shackd::load_refs(p), o)) {
    const json c = json::parse(m.payload);
    const std::string component = m.topic.substr(14, m.topic.find('/', 14) - 14);
    check_ha_rules(component, c, o);
    if (c["state_topic"].get<std::string>().starts_with("shack/ac/")) {
      CHECK(m.topic == "homeassistant/" + component + "/shackd/" + c["unique_id"].get<std::string>().substr(7) + "/config");
      ac[c["unique_id"].get<std::string>()] = c;
      MESSAGE(m.topic << " " << m.payload);
    }
  }
  std::set<std::string> ids;
  for (const auto& [id, c] : ac) ids.insert(id);
  CHECK(ids == std::set<std::string>{"shackd_ac_main_load_l1", "shackd_ac_main_load_l2", "shackd_ac_main_rating",
                                     "shackd_ac_main_surge_rating", "shackd_ac_main_overload", "shackd_ac_gen_load_l1", "shackd_ac_gen_rating",
                                     "shackd_ac_gen_overload", "shackd_ac_gen_running"});
  CHECK(ac["shackd_ac_main_load_l2"]["name"] == "Inverter main load L2");
  CHECK(ac["shackd_ac_main_surge_rating"]["name"] == "Inverter main surge rating per phase");
  CHECK(ac["shackd_ac_main_surge_rating"]["entity_category"] == "diagnostic");
  CHECK(ac["shackd_ac_main_load_l2"]["state_topic"] == "shack/ac/main");
  CHECK(ac["shackd_ac_main_load_l2"]["unit_of_measurement"] == "W");
  // Sent on news and every 60 s: it expires after two of those and the stale limit.
  CHECK(ac["shackd_ac_main_load_l2"]["expire_after"] == 150);
  CHECK(ac["shackd_ac_main_overload"]["expire_after"] == 150);
  CHECK(ac["shackd_ac_gen_running"]["expire_after"] == 150);
  CHECK(ac["shackd_ac_gen_load_l1"]["name"] == "Generator gen load");  // one phase: no leg named
  CHECK(ac["shackd_ac_main_rating"]["name"] == "Inverter main rating per phase");
  CHECK(ac["shackd_ac_main_overload"]["device_class"] == "problem");
  CHECK(ac["shackd_ac_gen_running"]["device_class"] == "running");
  CHECK(ac["shackd_ac_gen_running"]["state_topic"] == "shack/ac/gen");

  // The cycle publisher sends each source's state every cycle, retained, QoS 0, from the record.
  std::vector<std::tuple<std::string, std::string, bool, int>> sent;
  shackd::CyclePublisher cycle(
      [&](const std::string& topic, const std::string& payload, bool retained, int qos) {
        if (topic.starts_with("shack/ac/")) sent.emplace_back(topic, payload, retained, qos);
        return true;
      },
      "shack");
  const auto t0 = rules::SteadyTime{} + 1000h;
  cycle.publish(ac_cycle(t0, true));
  for (const auto& [topic, payload, retained, qos] : sent) MESSAGE(topic << " " << payload);
  REQUIRE(sent.size() == 2);
  CHECK(std::get<0>(sent[0]) == "shack/ac/main");
  CHECK(std::get<1>(sent[0]) ==
        R"({"source":"main","kind":"inverter","phases":2,"rating_w":4500,"surge_w":9000,"load_w_l1":3100,"load_w_l2":null,)"
        R"("overloaded":true,"overload_l1":false,"overload_l2":true,"warning":1})");
  CHECK(std::get<2>(sent[0]));
  CHECK(std::get<3>(sent[0]) == 0);
  CHECK(std::get<0>(sent[1]) == "shack/ac/gen");
  CHECK(std::get<1>(sent[1]) ==
        R"({"source":"gen","kind":"generator","phases":1,"rating_w":5000,"surge_w":null,"load_w_l1":4200,"overloaded":false,)"
        R"("overload_l1":false,"warning":null,"running":true})");
  // Every field a template reads is in the payload it reads.
  // By element, not structured bindings: clang 14 cannot capture one in CHECK_MESSAGE.
  for (const auto& entity : ac) {
    const std::string& id = entity.first;
    const json& c = entity.second;
    const json state = json::parse(std::get<1>(sent[c["state_topic"] == "shack/ac/main" ? 0 : 1]));
    for (const auto& f : template_fields(c["value_template"].get<std::string>())) CHECK_MESSAGE(state.contains(f), id << " reads " << f);
  }
  // The same figures a second later: nothing (what changes it, the next test case).
  cycle.publish(ac_cycle(t0 + 1s, false));
  CHECK(sent.size() == 2);

  // No ac_sources: one unrated "inverter": its rating null (HA: unknown), nothing known of it.
  auto plain = ac_cycle(t0, true);
  auto site = std::make_shared<shackd::CoreSite>(*plain.record->site);
  site->profiles.rules.ac_sources.clear();
  auto r = std::make_shared<shackd::CycleRecord>(*plain.record);
  r->snap.ac.clear();
  r->site = site;
  plain.record = r;
  sent.clear();
  cycle.publish(plain);
  REQUIRE(sent.size() == 1);
  CHECK(std::get<0>(sent[0]) == "shack/ac/inverter");
  CHECK(std::get<1>(sent[0]) ==
        R"({"source":"inverter","kind":"inverter","phases":1,"rating_w":null,"surge_w":null,"load_w_l1":null,"overloaded":false,)"
        R"("overload_l1":false,"warning":null})");
}

namespace {
// The figures of one cycle at `t` on ac_site(), every reading fresh: the inverter's L1 and L2
// loads and words, the generator's output and running; `overloaded_l2`: the rules' verdict.
struct AcInputs {
  double l1_w = 3100, l2_w = 1200, gen_w = 4200;
  double word_l2 = 0;
  bool overloaded_l2 = false;
  double running = 1;
  bool l1_known = true;
};
shackd::CycleFacts ac_at(rules::SteadyTime t, const AcInputs& in, bool everything = false) {
  auto site = std::make_shared<shackd::CoreSite>();
  site->profiles = ac_site();
  auto r = std::make_shared<shackd::CycleRecord>();
  r->now = r->snap.now = t;
  r->snap.ac.resize(2);
  if (in.l1_known) r->snap.ac[0].phase[0].load_w = rules::Reading{in.l1_w, t};
  r->snap.ac[0].phase[1].load_w = rules::Reading{in.l2_w, t};
  r->snap.ac[0].phase[1].overload = rules::Reading{in.word_l2, t};
  r->snap.ac[1].phase[0].load_w = rules::Reading{in.gen_w, t};
  r->snap.generator_running = rules::Reading{in.running, t};
  if (in.overloaded_l2) r->decision.next.site.ac[0][1].overload_at = t;
  r->site = std::move(site);
  shackd::CycleFacts f;
  f.prefix = "shack";
  f.record = std::move(r);
  f.everything = everything;
  return f;
}
}  // namespace

TEST_CASE("<prefix>/ac/<id>: only when a reader would see a change, at once for a verdict, and every 60 s") {
  std::vector<std::pair<std::string, std::string>> sent;
  bool refuse = false;
  shackd::CyclePublisher cycle(
      [&](const std::string& topic, const std::string& payload, bool, int) {
        if (!topic.starts_with("shack/ac/")) return true;
        if (refuse) return false;
        sent.emplace_back(topic, payload);
        return true;
      },
      "shack");
  const auto t0 = rules::SteadyTime{} + 1000h;
  auto t = t0;
  // Each step is a cycle 2 s later; it returns the topics sent in it.
  const auto step = [&](const AcInputs& in, bool everything = false) {
    t += 2s;
    sent.clear();
    cycle.publish(ac_at(t, in, everything));
    std::vector<std::string> topics;
    for (const auto& m : sent) topics.push_back(m.first);
    return topics;
  };
  using Topics = std::vector<std::string>;
  const Topics both{"shack/ac/main", "shack/ac/gen"}, main{"shack/ac/main"}, gen{"shack/ac/gen"}, none{};
  AcInputs in;
  CHECK(step(in, true) == both);  // the first view: everything
  CHECK(step(in) == none);        // unchanged figures send nothing
  in.l1_w = 3140;                 // 40 W: within 50 W (2 % of 3,100 W is 62 W, the larger)
  CHECK(step(in) == none);
  in.l1_w = 3163;                 // 63 W from what was sent: beyond 2 %
  CHECK(step(in) == main);
  CHECK(json::parse(sent[0].second)["load_w_l1"] == 3163);
  in.l2_w = 1249;  // 49 W from 1,200 W: the 50 W floor holds it back (2 % would be 24 W)
  CHECK(step(in) == none);
  in.l2_w = 1250;
  CHECK(step(in) == main);
  in.gen_w = 4280;  // 80 W of 4,200 W: within 2 % (84 W)
  CHECK(step(in) == none);
  in.gen_w = 4290;
  CHECK(step(in) == gen);
  // The rules' verdict, at once, and again when it ends; a word's change at once.
  in.overloaded_l2 = true;
  CHECK(step(in) == main);
  CHECK(json::parse(sent[0].second)["overloaded"] == true);
  CHECK(step(in) == none);  // still overloaded: no news
  in.overloaded_l2 = false;
  CHECK(step(in) == main);
  CHECK(json::parse(sent[0].second)["overloaded"] == false);
  in.word_l2 = 1;
  CHECK(step(in) == main);
  CHECK(json::parse(sent[0].second)["warning"] == 1);
  in.word_l2 = 2;
  CHECK(step(in) == main);
  // A reading lost is news (null), and one back.
  in.l1_known = false;
  CHECK(step(in) == main);
  CHECK(json::parse(sent[0].second)["load_w_l1"] == nullptr);
  in.l1_known = true;
  CHECK(step(in) == main);
  const auto main_at = t;
  // A generator that stops: its running, at once.
  in.running = 0;
  CHECK(step(in) == gen);
  CHECK(json::parse(sent[0].second)["running"] == false);
  const auto gen_at = t;
  // The heartbeat: nothing changes for a minute, then each again, 60 s after its last.
  int quiet = 0;
  while (t + 2s - main_at < 60s) {
    CHECK(step(in) == none);
    ++quiet;
  }
  CHECK(quiet == 28);
  CHECK(step(in) == main);
  CHECK(t - main_at == 60s);
  CHECK(step(in) == gen);
  CHECK(t - gen_at == 60s);
  CHECK(step(in) == none);
  // Everything (a reconnect, Home Assistant's birth message): both, unchanged or not.
  CHECK(step(in, true) == both);
  // A send the link refused is not taken as sent: it goes again with the next view.
  in.overloaded_l2 = true;
  refuse = true;
  CHECK(step(in) == none);
  refuse = false;
  in.overloaded_l2 = false;  // back as it was sent: the refused one's news is lost, nothing owed
  CHECK(step(in) == none);
  in.overloaded_l2 = true;
  refuse = true;
  step(in);
  refuse = false;
  CHECK(step(in) == main);  // still overloaded, and the last taken said not: sent
  // forget() (a reload): everything again as if for the first time.
  cycle.forget();
  CHECK(step(in) == both);
}
