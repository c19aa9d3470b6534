#include "daemon/publish/ha_discovery.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <tuple>

#include "daemon/vocab/ac_figures.hpp"
#include "rules/profile.hpp"

namespace shackd {

// At namespace scope, not in the anonymous one: a unity batch declares it once per file.
using json = nlohmann::json;

namespace {
}

std::string slug(const std::string& s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) out += static_cast<char>(std::tolower(u));
    else if (!out.empty() && out.back() != '_') out += '_';
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out.empty() ? "x" : out;
}

std::vector<DiscoveryMessage> discovery_messages(const StoredProfiles& p, const std::vector<LoadRef>& loads,
                                                 const DiscoveryOptions& o) {
  const json device{{"identifiers", json::array({o.node_id})},
                    {"name", "shackd " + o.site_name},
                    {"manufacturer", "shackd"},
                    {"model", "off-grid edge controller"},
                    {"sw_version", o.version}};
  std::vector<DiscoveryMessage> out;
  const auto add = [&](const std::string& component, const std::string& object, json config) {
    config["unique_id"] = o.node_id + "_" + object;
    // HA 2025.10 deprecated object_id for default_entity_id = <domain>.<object id>; object_id is
    // ignored from 2026.4 (HA MQTT discovery docs).
    config["default_entity_id"] = component + "." + o.node_id + "_" + object;
    config["availability_topic"] = o.prefix + "/status";
    config["payload_available"] = "online";
    config["payload_not_available"] = "offline";
    config["device"] = device;
    out.push_back({o.discovery_prefix + "/" + component + "/" + o.node_id + "/" + object + "/config", config.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
  };
  const std::string state = o.prefix + "/state";
  const auto sensor = [&](const std::string& object, const std::string& name, const char* device_class,
                          const char* unit, const std::string& tpl) {
    add("sensor", object,
        {{"name", name}, {"state_topic", state}, {"device_class", device_class}, {"state_class", "measurement"},
         {"unit_of_measurement", unit}, {"value_template", tpl}, {"expire_after", o.expire_after_s}});
  };
  sensor("battery_voltage", "Battery voltage", "voltage", "V", "{{ value_json.battery_v }}");
  sensor("soc_estimate", "Battery SOC (estimated from voltage)", "battery", "%", "{{ value_json.soc_pct_estimated }}");
  sensor("pv_power", "PV power", "power", "W", "{{ value_json.pv_w.value }}");
  sensor("load_power", "Load power", "power", "W", "{{ value_json.load_w.value }}");
  sensor("battery_power", "Battery power (+ charging)", "power", "W", "{{ value_json.battery_w.value }}");
  sensor("battery_temperature", "Battery temperature", "temperature", "°C", "{{ value_json.battery_temp_c.value }}");
  for (const auto& z : p.rules.zones) {
    sensor(slug(z.name) + "_temperature", z.name + " temperature", "temperature", "°C",
           "{{ value_json.zones_c[\"" + z.name + "\"].value }}");
  }
  // Why charging is (not) blocked, and whether any alarm is raised: the words are the reason's text.
  add("binary_sensor", "charge_blocked",
      {{"name", "Charging blocked"}, {"state_topic", state}, {"device_class", "problem"},
       {"value_template", "{{ 'ON' if value_json.block_charging else 'OFF' }}"},
       {"json_attributes_topic", state}, {"json_attributes_template", "{{ value_json.charge_reason | tojson }}"},
       {"expire_after", o.expire_after_s}});
  add("sensor", "charge_reason",
      {{"name", "Charge decision"}, {"state_topic", state}, {"icon", "mdi:battery-charging"},
       {"value_template", "{{ value_json.charge_reason.text | truncate(250) }}"}, {"expire_after", o.expire_after_s}});
  // A generator feeds the site: the loads' on_generator policies apply. A template that renders
  // "None" sets the state unknown (HA's MQTT binary sensor: payload_on, payload_off or None).
  add("binary_sensor", "generator_running",
      {{"name", "On generator power"}, {"state_topic", state}, {"device_class", "running"},
       {"value_template",
        "{{ 'None' if value_json.generator_running is none else ('ON' if value_json.generator_running else 'OFF') }}"},
       {"expire_after", o.expire_after_s}});
  // Each AC source against its rating (issue 59): its load per phase, its rating, the rules'
  // verdict on an overload (its own word, or its load above the rating past the tolerance) and,
  // for a generator, whether it runs; from <prefix>/ac/<id> (daemon/vocab/ac_figures.hpp). The id
  // is a-z, 0-9 and _ (config: ac_sources:), "inverter" with none configured.
  // It is sent on news and every kAcHeartbeatS, not every cycle: its entities expire after two
  // heartbeats and the stale limit (Home Assistant: "the number of seconds after the sensor's
  // state expires, if it's not updated", home-assistant.io/integrations/sensor.mqtt).
  const int ac_expire_after_s = 2 * kAcHeartbeatS + o.expire_after_s;
  for (std::size_t s = 0; s < rules::ac_source_count(p.rules); ++s) {
    const rules::AcSource& a = rules::ac_source(p.rules, s);
    const std::string topic = o.prefix + "/ac/" + a.name, object = "ac_" + slug(a.name);
    const bool generator = a.kind == rules::AcSourceKind::generator;
    // "Inverter" for the default source, "Inverter north" for one named north.
    const std::string kind = generator ? "Generator" : "Inverter";
    const std::string who = a.name == (generator ? "generator" : "inverter") ? kind : kind + " " + a.name;
    for (std::size_t k = 0; k < std::min<std::size_t>(a.phases, rules::kMaxAcPhases); ++k) {
      const std::string leg = a.phases > 1 ? " L" + std::to_string(k + 1) : "";
      add("sensor", object + "_load_l" + std::to_string(k + 1),
          {{"name", who + " load" + leg}, {"state_topic", topic}, {"device_class", "power"},
           {"state_class", "measurement"}, {"unit_of_measurement", "W"},
           {"value_template", "{{ value_json.load_w_l" + std::to_string(k + 1) + " }}"},
           {"json_attributes_topic", topic}, {"expire_after", ac_expire_after_s}});
    }
    add("sensor", object + "_rating",
        {{"name", who + " rating" + std::string(a.phases > 1 ? " per phase" : "")}, {"state_topic", topic},
         {"device_class", "power"}, {"state_class", "measurement"}, {"unit_of_measurement", "W"},
         {"entity_category", "diagnostic"},
         {"value_template", "{{ value_json.rating_w }}"}});
    if (a.surge_w > 0) {
      // What a start must fit in with the load it finds (rules/ac_budget.cpp: ac_surge).
      add("sensor", object + "_surge_rating",
          {{"name", who + " surge rating" + std::string(a.phases > 1 ? " per phase" : "")}, {"state_topic", topic},
           {"device_class", "power"}, {"state_class", "measurement"}, {"unit_of_measurement", "W"},
           {"entity_category", "diagnostic"}, {"value_template", "{{ value_json.surge_w }}"}});
    }
    add("binary_sensor", object + "_overload",
        {{"name", who + " overload"}, {"state_topic", topic}, {"device_class", "problem"},
         {"value_template", "{{ 'ON' if value_json.overloaded else 'OFF' }}"}, {"json_attributes_topic", topic},
         {"expire_after", ac_expire_after_s}});
    if (generator) {
      add("binary_sensor", object + "_running",
          {{"name", who + " running"}, {"state_topic", topic}, {"device_class", "running"},
           {"value_template", "{{ 'None' if value_json.running is none else ('ON' if value_json.running else 'OFF') }}"},
           {"expire_after", ac_expire_after_s}});
    }
  }
  add("binary_sensor", "alarm",
      {{"name", "Alarm"}, {"state_topic", state}, {"device_class", "problem"},
       {"value_template", "{{ 'ON' if value_json.alarms | length > 0 else 'OFF' }}"},
       {"json_attributes_topic", state}, {"json_attributes_template", "{{ {'alarms': value_json.alarms} | tojson }}"},
       {"expire_after", o.expire_after_s}});
  // The devices' own alarms (a BMS, a charger, the inverter's fault words): on for an alarm; the
  // warnings (a BMS that stops charging, "no AC grid") are in the list, not a problem.
  const std::string devices = o.prefix + "/device_alarms";
  add("binary_sensor", "device_alarm",
      {{"name", "Device alarm"}, {"state_topic", devices}, {"device_class", "problem"},
       {"value_template", "{{ 'ON' if value_json.count.alarm > 0 else 'OFF' }}"},
       {"json_attributes_topic", devices}, {"json_attributes_template", "{{ {'alarms': value_json.alarms} | tojson }}"}});
  add("sensor", "device_alarms",
      {{"name", "Device alarms"}, {"state_topic", devices}, {"icon", "mdi:alert-circle-outline"},
       {"value_template",
        "{{ (value_json.alarms | map(attribute='text') | join('; ') or 'none') | truncate(250) }}"}});
  // The site's energy today, for the Energy dashboard's solar and battery slots.
  for (const auto& [flow, name, icon] : {std::tuple{"pv", "Solar energy today", "mdi:solar-power"},
                                        std::tuple{"battery_in", "Battery charged today", "mdi:battery-arrow-up"},
                                        std::tuple{"battery_out", "Battery discharged today", "mdi:battery-arrow-down"}}) {
    const std::string topic = o.prefix + "/energy/" + flow;
    add("sensor", std::string(flow) + "_energy_today",
        {{"name", name}, {"state_topic", topic}, {"device_class", "energy"}, {"state_class", "total_increasing"},
         {"unit_of_measurement", "kWh"}, {"icon", icon}, {"value_template", "{{ value_json.today_kwh }}"},
         {"json_attributes_topic", topic}});
  }
  if (o.candidate) {
    const std::string mode = o.prefix + "/candidate";
    add("binary_sensor", "candidate_mode",
        {{"name", "Candidate profile (decided, not switched)"}, {"state_topic", mode}, {"icon", "mdi:flask-outline"},
         {"value_template", "{{ 'ON' if value_json.candidate else 'OFF' }}"}, {"json_attributes_topic", mode}});
    for (const auto& l : loads) {
      const std::string topic = o.prefix + "/candidate/" + l.id;
      add("binary_sensor", l.id + "_candidate",
          {{"name", l.name + " candidate differs"}, {"state_topic", topic}, {"icon", "mdi:flask-outline"},
           {"value_template", "{{ 'ON' if value_json.agree == false else 'OFF' }}"},
           {"json_attributes_topic", topic}});
    }
  }
  if (o.shadow) {
    // Said where the owner looks: this shackd commands nothing, whatever its other entities show.
    const std::string mode = o.prefix + "/shadow";
    add("binary_sensor", "shadow_mode",
        {{"name", "Shadow mode (switches nothing)"}, {"state_topic", mode}, {"icon", "mdi:eye-outline"},
         {"value_template", "{{ 'ON' if value_json.shadow else 'OFF' }}"}});
    for (const auto& l : loads) {
      const std::string topic = o.prefix + "/shadow/" + l.id;
      add("binary_sensor", l.id + "_shadow",
          {{"name", l.name + " shadow disagrees"}, {"state_topic", topic}, {"icon", "mdi:scale-unbalanced"},
           {"value_template", "{{ 'ON' if value_json.agree == false else 'OFF' }}"},
           {"json_attributes_topic", topic}});
    }
  }
  for (const auto& l : loads) {
    add("binary_sensor", l.id + "_relay",
        {{"name", l.name + " relay"}, {"state_topic", o.prefix + "/load/" + l.id + "/observed"},
         {"payload_on", "ON"}, {"payload_off", "OFF"}, {"device_class", "power"}});
    // A relay that would switch its load back ON by itself after a power cut (its PowerOnState,
    // its initial_state: docs/protocols.md §1.6); one that cannot say is no problem shown here.
    const std::string power_on = o.prefix + "/load/" + l.id + "/power_on";
    add("binary_sensor", l.id + "_power_on",
        {{"name", l.name + " relay powers up ON"}, {"state_topic", power_on}, {"device_class", "problem"},
         {"entity_category", "diagnostic"},
         {"value_template", "{{ 'ON' if value_json.risk in ['on', 'follows_input', 'unknown'] else 'OFF' }}"},
         {"json_attributes_topic", power_on}});
    add("sensor", l.id + "_reason",
        {{"name", l.name + " reason"}, {"state_topic", o.prefix + "/load/" + l.id + "/reason"},
         {"icon", "mdi:comment-question-outline"}, {"value_template", "{{ value_json.text | truncate(250) }}"},
         {"json_attributes_topic", o.prefix + "/load/" + l.id + "/reason"}});
    // Energy today, for the Energy dashboard and the owner's harvest: a daily total, which HA's
    // total_increasing reads as a new cycle at midnight (HA sensor docs, state classes).
    add("sensor", l.id + "_energy_today",
        {{"name", l.name + " energy today"}, {"state_topic", o.prefix + "/load/" + l.id + "/energy"},
         {"device_class", "energy"}, {"state_class", "total_increasing"}, {"unit_of_measurement", "kWh"},
         {"value_template", "{{ value_json.today_kwh }}"}, {"json_attributes_topic", o.prefix + "/load/" + l.id + "/energy"}});
    add("select", l.id + "_mode",
        {{"name", l.name + " mode"}, {"command_topic", o.prefix + "/load/" + l.id + "/mode/set"},
         {"state_topic", o.prefix + "/load/" + l.id + "/mode"}, {"options", json::array({"auto", "on", "off"})},
         {"retain", false}});
  }
  // Settings (mqtt.allow_settings): a number per offered value, showing the value in force; a set
  // shackd refuses leaves it there (HA docs, MQTT number: state_topic, command_topic, min, max).
  for (const auto& s : o.settings) {
    const std::string topic = o.prefix + "/load/" + s.load_id;
    json number{{"name", s.load_name + " " + s.label}, {"command_topic", topic + "/" + s.field + "/set"},
                {"state_topic", topic + "/settings"}, {"value_template", "{{ value_json." + s.field + " }}"},
                {"unit_of_measurement", s.unit}, {"min", s.min_v}, {"max", s.max_v},
                {"step", s.unit == "V" ? 0.05 : 1.0}, {"mode", "box"}, {"entity_category", "config"}, {"retain", false}};
    if (s.unit == "V") number["device_class"] = "voltage";
    add("number", s.load_id + "_" + s.field, std::move(number));
  }
  // What a miner says of itself: its draw, hashrate, hottest sensor and fan, its state and the
  // power target it runs to (hass-miner shows the same set; its owners ask for the target back).
  for (const auto& m : o.miners) {
    const std::string topic = o.prefix + "/load/" + m.load_id + "/miner";
    const auto miner_sensor = [&](const std::string& object, const std::string& name, const char* device_class,
                                  const char* unit, const char* key, const char* icon) {
      json c{{"name", m.name + " " + name}, {"state_topic", topic}, {"state_class", "measurement"},
             {"unit_of_measurement", unit}, {"value_template", std::string("{{ value_json.") + key + " }}"},
             {"expire_after", m.expire_after_s}};
      if (device_class) c["device_class"] = device_class;
      if (icon) c["icon"] = icon;
      add("sensor", m.load_id + "_" + object, std::move(c));
    };
    miner_sensor("miner_power", "measured power", "power", "W", "power_w", nullptr);
    miner_sensor("hashrate", "hashrate", nullptr, "TH/s", "hashrate_ths", "mdi:pickaxe");
    miner_sensor("max_temperature", "hottest sensor", "temperature", "°C", "max_temp_c", nullptr);
    miner_sensor("fan_speed", "fan", nullptr, "rpm", "fan_rpm", "mdi:fan");
    miner_sensor("power_target", "power target", "power", "W", "power_target_w", "mdi:target");
    add("sensor", m.load_id + "_miner_state",
        {{"name", m.name + " miner state"}, {"state_topic", topic}, {"icon", "mdi:state-machine"},
         {"value_template", "{{ value_json.state }}"}, {"json_attributes_topic", topic},
         {"expire_after", m.expire_after_s}});
  }
  // The controller's own health (issue 47): its supply, its clock, its temperature, its storage,
  // each where the machine says it.
  const std::string host = o.prefix + "/host";
  const auto problem = [&](const std::string& object, const std::string& name, const std::string& tpl) {
    add("binary_sensor", object,
        {{"name", name}, {"state_topic", host}, {"device_class", "problem"}, {"entity_category", "diagnostic"},
         {"value_template", tpl}, {"json_attributes_topic", host}});
  };
  const auto alarm_in = [](const char* code) { return std::string("{{ 'ON' if '") + code + "' in value_json.alarms else 'OFF' }}"; };
  if (o.host.flags) {
    problem("controller_under_voltage", "Controller under-voltage", alarm_in("controller_under_voltage"));
    problem("controller_throttled", "Controller throttled", alarm_in("controller_throttled"));
  }
  if (o.host.temperature) {
    problem("controller_hot", "Controller hot", alarm_in("controller_hot"));
    add("sensor", "controller_temperature",
        {{"name", "Controller temperature"}, {"state_topic", host}, {"device_class", "temperature"},
         {"state_class", "measurement"}, {"unit_of_measurement", "°C"}, {"entity_category", "diagnostic"},
         {"value_template", "{{ value_json.soc_temp_c }}"}});
  }
  if (o.host.storage) problem("controller_storage_worn", "Controller storage wearing out", alarm_in("controller_storage_worn"));
  if (o.host.writes) {
    problem("controller_heavy_writes", "Controller writes too much", alarm_in("controller_heavy_writes"));
    add("sensor", "controller_write_rate",
        {{"name", "Controller storage writes"}, {"state_topic", host}, {"icon", "mdi:harddisk"},
         {"state_class", "measurement"}, {"unit_of_measurement", "MB/h"}, {"entity_category", "diagnostic"},
         {"value_template", "{{ value_json.write_mb_per_h }}"}});
  }
  // A device that stopped answering is a problem: ON when it is not connected.
  for (const auto& d : o.devices) {
    add("binary_sensor", slug(d) + "_problem",
        {{"name", d + " offline"}, {"state_topic", o.prefix + "/device/" + d + "/health"}, {"device_class", "problem"},
         {"value_template", "{{ 'OFF' if value_json.connected else 'ON' }}"},
         {"json_attributes_topic", o.prefix + "/device/" + d + "/health"}});
  }
  return out;
}

}  // namespace shackd
