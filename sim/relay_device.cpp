#include "sim/relay_device.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <sstream>

namespace sim {

using drivers::mqtt::RelayProtocol;

namespace {

std::string ch(const RelayConfig& r) { return std::to_string(r.channel); }
std::string gen1_relay(const RelayConfig& r) { return "shellies/" + r.topic + "/relay/" + ch(r); }
std::string esphome_switch(const RelayConfig& r) { return r.topic + "/switch/" + r.object_id; }

// A DS18x20's Id is 12 or 16 hex digits (Tasmota prints the 64-bit ROM code, or its middle 48
// bits): a key like that names the sensor by Id, under a "DS18B20" object.
bool ds18x20_id(const std::string& key) {
  if (key.size() != 12 && key.size() != 16) return false;
  return key.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
}

nlohmann::json at_path(const std::string& path, double value) {
  std::vector<std::string> parts;
  std::stringstream ss(path);
  for (std::string part; std::getline(ss, part, '.');) parts.push_back(part);
  nlohmann::json j = value;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    const bool index = !it->empty() && it->find_first_not_of("0123456789") == std::string::npos && it->size() < 4;
    if (index) {
      nlohmann::json a = nlohmann::json::array();
      for (unsigned long i = 0; i < std::stoul(*it); ++i) a.push_back(nullptr);
      a.push_back(j);
      j = a;
    } else {
      j = nlohmann::json{{*it, j}};
    }
  }
  return j;
}

}  // namespace

std::vector<std::string> device_subscriptions(const RelayConfig& r) {
  switch (r.protocol) {
    case RelayProtocol::tasmota: return {drivers::mqtt::tasmota_base(r, "cmnd") + "#"};
    case RelayProtocol::shelly_gen1: return {gen1_relay(r) + "/command"};
    case RelayProtocol::shelly_gen2: return {r.topic + "/rpc"};
    case RelayProtocol::esphome: return {esphome_switch(r) + "/command"};
    case RelayProtocol::generic: return {r.command_topic};
  }
  return {};
}

std::vector<Outgoing> device_hello(const RelayConfig& r, bool on) {
  std::vector<Outgoing> out;
  switch (r.protocol) {
    case RelayProtocol::tasmota: out.push_back({drivers::mqtt::tasmota_base(r, "tele") + "LWT", "Online"}); break;
    case RelayProtocol::shelly_gen1: out.push_back({"shellies/" + r.topic + "/online", "true"}); break;
    case RelayProtocol::shelly_gen2: {
      out.push_back({r.topic + "/online", "true"});
      // "Generic status update over MQTT": the switch's whole status on status/switch:<id>.
      const nlohmann::json st{{"id", r.channel}, {"source", "init"}, {"output", on}};
      out.push_back({r.topic + "/status/switch:" + ch(r), st.dump()});
      return out;
    }
    case RelayProtocol::esphome: out.push_back({r.topic + "/status", "online"}); break;
    case RelayProtocol::generic:
      if (!r.availability_topic.empty()) out.push_back({r.availability_topic, r.available});
      break;
  }
  for (auto& o : device_state(r, on, true)) out.push_back(std::move(o));
  return out;
}

std::optional<Outgoing> device_goodbye(const RelayConfig& r) {
  switch (r.protocol) {
    case RelayProtocol::tasmota: return Outgoing{drivers::mqtt::tasmota_base(r, "tele") + "LWT", "Offline"};
    case RelayProtocol::shelly_gen1: return Outgoing{"shellies/" + r.topic + "/online", "false"};
    case RelayProtocol::shelly_gen2: return Outgoing{r.topic + "/online", "false"};
    case RelayProtocol::esphome: return Outgoing{r.topic + "/status", "offline"};
    case RelayProtocol::generic:
      if (r.availability_topic.empty()) return std::nullopt;
      return Outgoing{r.availability_topic, r.not_available};
  }
  return std::nullopt;
}

std::optional<DeviceCommand> device_command(const RelayConfig& r, const std::string& topic, const std::string& payload,
                                            bool was_on) {
  DeviceCommand c;
  switch (r.protocol) {
    case RelayProtocol::tasmota: {
      const std::string base = drivers::mqtt::tasmota_base(r, "cmnd");
      if (topic != base + "POWER" + ch(r) && !(r.channel == 1 && topic == base + "POWER")) return std::nullopt;
      if (payload == "ON" || payload == "1") c.on = true;
      else if (payload == "OFF" || payload == "0") c.on = false;
      else if (payload == "TOGGLE" || payload == "2") c.on = !was_on;
      else return std::nullopt;
      return c;
    }
    case RelayProtocol::shelly_gen1:
      if (topic != gen1_relay(r) + "/command") return std::nullopt;
      if (payload == "on") c.on = true;
      else if (payload == "off") c.on = false;
      else if (payload == "toggle") c.on = !was_on;
      else return std::nullopt;
      return c;
    case RelayProtocol::shelly_gen2: {
      if (topic != r.topic + "/rpc") return std::nullopt;
      const auto j = nlohmann::json::parse(payload, nullptr, false);
      if (!j.is_object() || !j.contains("method") || j["method"] != "Switch.Set") return std::nullopt;
      const auto p = j.find("params");
      if (p == j.end() || !p->is_object() || !p->contains("on") || !(*p)["on"].is_boolean()) return std::nullopt;
      if (!p->contains("id") || (*p)["id"] != r.channel) return std::nullopt;  // another switch of this device
      c.on = (*p)["on"].get<bool>();
      const auto src = j.find("src");
      if (src != j.end() && src->is_string() && j.contains("id")) {
        // Shelly's RPC over MQTT: the answer goes to <src>/rpc, with the request's id.
        const nlohmann::json reply{{"id", j["id"]}, {"src", r.topic}, {"dst", *src}, {"result", {{"was_on", was_on}}}};
        c.replies.push_back({src->get<std::string>() + "/rpc", reply.dump()});
      }
      return c;
    }
    case RelayProtocol::esphome:
      if (topic != esphome_switch(r) + "/command") return std::nullopt;
      if (payload == "ON" || payload == "on") c.on = true;
      else if (payload == "OFF" || payload == "off") c.on = false;
      else if (payload == "TOGGLE" || payload == "toggle") c.on = !was_on;
      else return std::nullopt;
      return c;
    case RelayProtocol::generic:
      if (topic != r.command_topic) return std::nullopt;
      if (payload == r.payload_on) c.on = true;
      else if (payload == r.payload_off) c.on = false;
      else return std::nullopt;
      return c;
  }
  return std::nullopt;
}

std::vector<Outgoing> device_state(const RelayConfig& r, bool on, bool changed) {
  switch (r.protocol) {
    case RelayProtocol::tasmota: {
      const std::string stat = drivers::mqtt::tasmota_base(r, "stat");
      return {{stat + "RESULT", std::string("{\"POWER") + ch(r) + "\":\"" + (on ? "ON" : "OFF") + "\"}"},
              {stat + "POWER" + ch(r), on ? "ON" : "OFF"}};
    }
    case RelayProtocol::shelly_gen1: return {{gen1_relay(r), on ? "on" : "off"}};
    case RelayProtocol::shelly_gen2: {
      if (!changed) return {};
      const nlohmann::json n{{"src", r.topic},
                             {"method", "NotifyStatus"},
                             {"params", {{"ts", 0.0}, {"switch:" + ch(r), {{"id", r.channel}, {"output", on}}}}}};
      return {{r.topic + "/events/rpc", n.dump()}};
    }
    case RelayProtocol::esphome: return {{esphome_switch(r) + "/state", on ? "ON" : "OFF"}};
    case RelayProtocol::generic: return {{r.state_topic, on ? r.state_on : r.state_off}};
  }
  return {};
}

std::string default_power_on(const RelayConfig& r) { return r.protocol == RelayProtocol::tasmota ? "3" : "off"; }

bool valid_power_on(const RelayConfig& r, const std::string& setting) {
  if (r.protocol == RelayProtocol::tasmota) return setting.size() == 1 && setting[0] >= '0' && setting[0] <= '5';
  if (r.protocol == RelayProtocol::shelly_gen2) {
    return setting == "off" || setting == "on" || setting == "restore_last" || setting == "match_input";
  }
  return setting == "off";
}

std::optional<std::vector<Outgoing>> device_power_on_request(const RelayConfig& r, const std::string& topic,
                                                             const std::string& payload, std::string& setting) {
  if (r.protocol == RelayProtocol::tasmota) {
    // cmnd/<t>/PowerOnState: empty asks, 0-5 sets; either way it answers with the value it holds
    // on stat/<t>/RESULT (support_command.ino, CmndPowerOnState: ResponseCmndNumber).
    if (topic != drivers::mqtt::tasmota_base(r, "cmnd") + "PowerOnState") return std::nullopt;
    if (valid_power_on(r, payload)) setting = payload;
    return std::vector<Outgoing>{{drivers::mqtt::tasmota_base(r, "stat") + "RESULT", "{\"PowerOnState\":" + setting + "}"}};
  }
  if (r.protocol != RelayProtocol::shelly_gen2 || topic != r.topic + "/rpc") return std::nullopt;
  const auto j = nlohmann::json::parse(payload, nullptr, false);
  if (!j.is_object() || !j.contains("method") || !j["method"].is_string()) return std::nullopt;
  const std::string method = j["method"].get<std::string>();
  if (method != "Switch.GetConfig" && method != "Switch.SetConfig") return std::nullopt;
  const auto p = j.find("params");
  if (p == j.end() || !p->is_object() || !p->contains("id") || (*p)["id"] != r.channel) return std::nullopt;
  const auto src = j.find("src");
  if (src == j.end() || !src->is_string() || !j.contains("id")) return std::vector<Outgoing>{};  // no one to answer
  nlohmann::json reply{{"id", j["id"]}, {"src", r.topic}, {"dst", *src}};
  if (method == "Switch.GetConfig") {
    reply["result"] = {{"id", r.channel}, {"name", nullptr}, {"in_mode", "follow"}, {"initial_state", setting},
                       {"auto_on", false}, {"auto_on_delay", 60.0}, {"auto_off", false}, {"auto_off_delay", 60.0}};
  } else {
    const nlohmann::json* v = nullptr;
    if (const auto c = p->find("config"); c != p->end() && c->is_object()) {
      if (const auto x = c->find("initial_state"); x != c->end()) v = &*x;
    }
    if (v && v->is_string() && valid_power_on(r, v->get<std::string>())) {
      setting = v->get<std::string>();
      reply["result"] = {{"restart_required", false}};
      // ... and every client hears that it changed (Shelly Gen2 docs: the config_changed event).
      const nlohmann::json event{{"src", r.topic},
                                 {"method", "NotifyEvent"},
                                 {"params", {{"ts", 0.0},
                                             {"events", nlohmann::json::array({{{"component", "switch:" + ch(r)},
                                                                                {"id", r.channel},
                                                                                {"event", "config_changed"},
                                                                                {"restart_required", false},
                                                                                {"ts", 0.0}}})}}}};
      return std::vector<Outgoing>{{src->get<std::string>() + "/rpc", reply.dump()},
                                   {r.topic + "/events/rpc", event.dump()}};
    } else {
      // JSON-RPC's invalid argument, as the device refuses a value it does not know.
      reply["error"] = {{"code", -103}, {"message", "Invalid argument 'initial_state'"}};
    }
  }
  return std::vector<Outgoing>{{src->get<std::string>() + "/rpc", reply.dump()}};
}

std::optional<std::vector<Outgoing>> device_state_request(const RelayConfig& r, const std::string& topic,
                                                          const std::string& payload, bool on, std::int64_t uptime_s) {
  if (r.protocol == RelayProtocol::tasmota) {
    // cmnd/<t>/State: the STATE document on stat/<t>/RESULT (support_command.ino, CmndState;
    // support_tasmota.ino, MqttShowState: "Time", "Uptime", "UptimeSec", ..., "POWER<n>").
    if (topic != drivers::mqtt::tasmota_base(r, "cmnd") + "State") return std::nullopt;
    const nlohmann::json st{{"Time", "1970-01-01T00:00:00"},
                            {"Uptime", std::to_string(uptime_s / 86400) + "T00:00:00"},
                            {"UptimeSec", uptime_s},
                            {"POWER" + ch(r), on ? "ON" : "OFF"}};
    return std::vector<Outgoing>{{drivers::mqtt::tasmota_base(r, "stat") + "RESULT", st.dump()}};
  }
  if (r.protocol != RelayProtocol::shelly_gen2 || topic != r.topic + "/rpc") return std::nullopt;
  const auto j = nlohmann::json::parse(payload, nullptr, false);
  if (!j.is_object() || j.value("method", nlohmann::json()) != "Shelly.GetStatus") return std::nullopt;
  const auto src = j.find("src");
  if (src == j.end() || !src->is_string() || !j.contains("id")) return std::vector<Outgoing>{};  // no one to answer
  // Shelly Gen2 docs, Shelly.GetStatus: every component's status by its key; Sys: "uptime", the
  // seconds since the last reboot; Switch: "output".
  const nlohmann::json reply{{"id", j["id"]},
                             {"src", r.topic},
                             {"dst", *src},
                             {"result", {{"sys", {{"uptime", uptime_s}, {"restart_required", false}}},
                                         {"switch:" + ch(r), {{"id", r.channel}, {"source", "init"}, {"output", on}}}}}};
  return std::vector<Outgoing>{{src->get<std::string>() + "/rpc", reply.dump()}};
}

bool powers_up_on(const RelayConfig& r, const std::string& setting, bool was_on, bool input_on) {
  if (r.protocol == RelayProtocol::tasmota) {
    // Tasmota docs, PowerOnState: 0 off, 1 on, 2 toggled from the saved state, 3 the saved state,
    // 4 on (and locked), 5 on once PulseTime has passed (on, for a power cut longer than that).
    if (setting == "1" || setting == "4" || setting == "5") return true;
    if (setting == "2") return !was_on;
    if (setting == "3") return was_on;
    return false;
  }
  if (r.protocol == RelayProtocol::shelly_gen2) {
    if (setting == "on") return true;
    if (setting == "restore_last") return was_on;
    if (setting == "match_input") return input_on;
  }
  return false;
}

std::optional<Outgoing> device_power(const RelayConfig& r, bool on, double power_w) {
  const double w = on ? power_w : 0;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", w);
  switch (r.protocol) {
    case RelayProtocol::tasmota:
      return Outgoing{drivers::mqtt::tasmota_base(r, "tele") + "SENSOR", std::string("{\"ENERGY\":{\"Power\":") + buf + "}}"};
    case RelayProtocol::shelly_gen1: return Outgoing{gen1_relay(r) + "/power", buf};
    case RelayProtocol::shelly_gen2: {
      const nlohmann::json n{{"src", r.topic},
                             {"method", "NotifyStatus"},
                             {"params", {{"ts", 0.0}, {"switch:" + ch(r), {{"id", r.channel}, {"output", on}, {"apower", w}}}}}};
      return Outgoing{r.topic + "/events/rpc", n.dump()};
    }
    case RelayProtocol::esphome:
    case RelayProtocol::generic: return std::nullopt;
  }
  return std::nullopt;
}

Outgoing sensor_message(const drivers::mqtt::SensorConfig& s, double celsius) {
  using drivers::mqtt::SensorFormat;
  const double t = std::round(celsius * 10) / 10;  // Tasmota's default TempRes 1
  switch (s.format) {
    case SensorFormat::tasmota: {
      nlohmann::json j;
      if (ds18x20_id(s.key)) j["DS18B20"] = {{"Id", s.key}, {s.field, t}};
      else j[s.key] = {{s.field, t}};
      j["TempUnit"] = "C";
      return {s.topic, j.dump()};
    }
    case SensorFormat::json: return {s.topic, at_path(s.key, t).dump()};
    case SensorFormat::number: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.1f", t);
      return {s.topic, buf};
    }
  }
  return {s.topic, ""};
}

}  // namespace sim
