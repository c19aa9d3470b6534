#include "drivers/mqtt/relay_protocol.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "drivers/text/json_in.hpp"

namespace drivers::mqtt {

namespace {

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

// Tasmota: the FullTopic with %prefix% and %topic% filled in, ending in '/'.

// Tasmota, ESPHome and generic payloads: ON/OFF in any case, also 1/0 and true/false.
std::optional<bool> on_off(const std::string& payload) {
  const std::string p = upper(payload);
  if (p == "ON" || p == "1" || p == "TRUE") return true;
  if (p == "OFF" || p == "0" || p == "FALSE") return false;
  return std::nullopt;
}

std::string power_key(const RelayConfig& r) { return "POWER" + std::to_string(r.channel); }

// {"POWER1":"ON"} or, for the first relay, {"POWER":"ON"} (SetOption26 decides which).
std::optional<bool> tasmota_json_power(const RelayConfig& r, const std::string& payload) {
  const auto j = drivers::text::parse_peer_json(payload);
  if (!j.is_object()) return std::nullopt;
  for (const std::string& key : {power_key(r), std::string(r.channel == 1 ? "POWER" : "")}) {
    if (key.empty() || !j.contains(key) || !j[key].is_string()) continue;
    return on_off(j[key].get<std::string>());
  }
  return std::nullopt;
}

// A metered power as a relay reports it, if plausible: finite, not negative (a meter's -0.4 W of
// noise at rest reads 0) and below 100 kW, far above what any relay carries.
std::optional<double> watts(std::optional<double> w) {
  if (!w || !std::isfinite(*w) || *w < -5 || *w > 100000) return std::nullopt;
  return std::max(0.0, *w);
}

std::optional<double> parse_double(const std::string& s) {
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> json_number(const nlohmann::json& j) {
  if (!j.is_number()) return std::nullopt;
  return j.get<double>();
}

// tele/<t>/SENSOR: {"ENERGY":{"Power":123,...}}, or on a device with several metered channels
// {"ENERGY":{"Power":[12,34]}}, one per relay (Tasmota docs, Commands: "Power" of ENERGY).
std::optional<double> tasmota_energy_power(const RelayConfig& r, const std::string& payload) {
  const auto j = drivers::text::parse_peer_json(payload);
  if (!j.is_object()) return std::nullopt;
  const auto e = j.find("ENERGY");
  if (e == j.end() || !e->is_object()) return std::nullopt;
  const auto p = e->find("Power");
  if (p == e->end()) return std::nullopt;
  if (p->is_array()) {
    const auto i = static_cast<std::size_t>(r.channel - 1);
    return i < p->size() ? watts(json_number((*p)[i])) : std::nullopt;
  }
  return watts(json_number(*p));
}

// Tasmota's STATE (tele/<t>/STATE, and the reply to `State` on stat/<t>/RESULT): "UptimeSec", the
// seconds since it started (support_tasmota.ino, MqttShowState: "Uptime":"..","UptimeSec":%u).
// Plausible: a whole number of seconds, under ten years.
std::optional<std::int64_t> uptime_in(const nlohmann::json& j, const char* key) {
  const auto u = j.find(key);
  if (u == j.end() || !u->is_number_integer()) return std::nullopt;
  const auto v = u->get<std::int64_t>();
  if (v < 0 || v > 10LL * 366 * 24 * 3600) return std::nullopt;
  return v;
}

// A reply whose id is our Shelly.GetStatus's for this switch (shelly_status_rpc_id).
bool is_status_reply(const nlohmann::json& j, int channel) {
  const auto id = j.find("id");
  if (id == j.end() || !id->is_number_integer()) return false;
  const auto v = id->get<long long>();
  return v >= 0 && ((v >> 5) & 3) == 3 && ((v >> 1) & 15) == channel;
}

std::optional<std::int64_t> tasmota_uptime(const std::string& payload) {
  const auto j = drivers::text::parse_peer_json(payload);
  if (!j.is_object()) return std::nullopt;
  return uptime_in(j, "UptimeSec");
}

// Shelly Gen2 Switch status: "apower" in W, on the models that meter (Shelly docs, Switch.GetStatus).
std::optional<double> shelly_apower(const nlohmann::json& sw) {
  const auto a = sw.find("apower");
  return a == sw.end() ? std::nullopt : watts(json_number(*a));
}

}  // namespace

std::optional<RelayProtocol> parse_protocol(const std::string& s) {
  for (auto p : {RelayProtocol::tasmota, RelayProtocol::shelly_gen1, RelayProtocol::shelly_gen2, RelayProtocol::esphome,
                 RelayProtocol::generic}) {
    if (s == protocol_name(p)) return p;
  }
  return std::nullopt;
}

const char* protocol_name(RelayProtocol p) {
  switch (p) {
    case RelayProtocol::tasmota: return "tasmota";
    case RelayProtocol::shelly_gen1: return "shelly_gen1";
    case RelayProtocol::shelly_gen2: return "shelly_gen2";
    case RelayProtocol::esphome: return "esphome";
    case RelayProtocol::generic: return "generic";
  }
  return "generic";
}

SharedRelayConfigs share_relays(std::vector<RelayConfig> relays) {
  SharedRelayConfigs out;
  out.reserve(relays.size());
  for (auto& r : relays) out.push_back(std::make_shared<const RelayConfig>(std::move(r)));
  return out;
}

std::vector<std::string> validate_relay(const RelayConfig& r) {
  std::vector<std::string> e;
  const std::string who = "relay '" + r.id + "'";
  const auto bad_topic = [](const std::string& t) {
    return t.empty() || t.find_first_of("#+") != std::string::npos;
  };
  if (r.protocol == RelayProtocol::generic) {
    if (bad_topic(r.command_topic)) e.push_back(who + ": command_topic must be a topic without wildcards");
    if (bad_topic(r.state_topic)) e.push_back(who + ": state_topic must be a topic without wildcards");
  } else if (bad_topic(r.topic)) {
    e.push_back(who + ": topic must be set, without wildcards");
  }
  if (r.protocol == RelayProtocol::tasmota && (r.channel < 1 || r.channel > 32)) {
    e.push_back(who + ": channel " + std::to_string(r.channel) + " must be 1 to 32 (Tasmota POWER1..POWER32)");
  }
  if ((r.protocol == RelayProtocol::shelly_gen1 || r.protocol == RelayProtocol::shelly_gen2) &&
      (r.channel < 0 || r.channel > 15)) {
    e.push_back(who + ": channel " + std::to_string(r.channel) + " must be 0 to 15 (Shelly relays count from 0)");
  }
  if (r.protocol == RelayProtocol::esphome && r.object_id.empty()) e.push_back(who + ": object_id must be set");
  if (r.protocol == RelayProtocol::tasmota && r.full_topic.find("%topic%") == std::string::npos) {
    e.push_back(who + ": full_topic '" + r.full_topic + "' needs %topic%");
  }
  const auto dm = r.dead_man.count();
  if (dm != 0) {
    if (r.protocol == RelayProtocol::tasmota && (dm < 12 || dm > 64800)) {
      e.push_back(who + ": dead_man " + std::to_string(dm) + " s must be 12 to 64800 s (Tasmota PulseTime)");
    } else if (r.protocol != RelayProtocol::tasmota && r.protocol != RelayProtocol::shelly_gen2) {
      e.push_back(who + ": dead_man needs a device-side auto-off, which only Tasmota (PulseTime) and Shelly Gen2 "
                        "(toggle_after) offer; " + protocol_name(r.protocol) + " has none");
    } else if (dm < 0) {
      e.push_back(who + ": dead_man must not be negative");
    }
  }
  return e;
}

std::string tasmota_base(const RelayConfig& r, const char* prefix) {
  std::string t = replace_all(replace_all(r.full_topic, "%prefix%", prefix), "%topic%", r.topic);
  if (t.empty() || t.back() != '/') t += '/';
  return t;
}

long long shelly_rpc_id(int sequence, int channel, bool on) {
  return static_cast<long long>(sequence) * 128 + channel * 2 + (on ? 1 : 0);
}

std::vector<Outgoing> relay_command(const RelayConfig& r, bool on, int rpc_id) {
  switch (r.protocol) {
    case RelayProtocol::tasmota: {
      std::vector<Outgoing> out;
      const std::string base = tasmota_base(r, "cmnd");
      // PulseTime first: every POWER ON re-arms it. 112..64900 means (value - 100) seconds.
      if (on && r.dead_man.count() > 0) {
        out.push_back({base + "PulseTime" + std::to_string(r.channel), std::to_string(r.dead_man.count() + 100)});
      }
      out.push_back({base + power_key(r), on ? "ON" : "OFF"});
      return out;
    }
    case RelayProtocol::shelly_gen1:
      return {{"shellies/" + r.topic + "/relay/" + std::to_string(r.channel) + "/command", on ? "on" : "off"}};
    case RelayProtocol::shelly_gen2: {
      nlohmann::json params{{"id", r.channel}, {"on", on}};
      if (on && r.dead_man.count() > 0) params["toggle_after"] = r.dead_man.count();
      const nlohmann::json req{{"id", shelly_rpc_id(rpc_id, r.channel, on)}, {"src", r.rpc_src}, {"method", "Switch.Set"},
                               {"params", params}};
      return {{r.topic + "/rpc", req.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)}};
    }
    case RelayProtocol::esphome:
      return {{r.topic + "/switch/" + r.object_id + "/command", on ? "ON" : "OFF"}};
    case RelayProtocol::generic:
      return {{r.command_topic, on ? r.payload_on : r.payload_off}};
  }
  return {};
}

std::optional<Outgoing> speed_command(const RelayConfig& r, int percent) {
  percent = std::clamp(percent, 0, 100);
  if (r.protocol == RelayProtocol::tasmota && r.speed_dimmer) return Outgoing{tasmota_base(r, "cmnd") + "Dimmer", std::to_string(percent)};
  if (!r.speed_topic.empty()) return Outgoing{r.speed_topic, std::to_string(percent)};
  return std::nullopt;
}

bool reports_uptime(const RelayConfig& r) {
  return r.protocol == RelayProtocol::tasmota || r.protocol == RelayProtocol::shelly_gen2;
}

long long shelly_status_rpc_id(int sequence, int channel) {
  return static_cast<long long>(sequence) * 128 + 3 * 32 + (channel & 15) * 2;
}

std::optional<Outgoing> state_query(const RelayConfig& r, int sequence) {
  switch (r.protocol) {
    case RelayProtocol::tasmota:
      // `State`: the STATE document (uptime and every POWER<n>) on stat/<t>/RESULT (Tasmota
      // support_command.ino, CmndState; Tasmota docs, Commands: "display current device state").
      return Outgoing{tasmota_base(r, "cmnd") + "State", ""};
    case RelayProtocol::shelly_gen2: {
      // Shelly.GetStatus: every component's status, "sys" (uptime: seconds since the last
      // reboot) and "switch:<n>" (output) among them (Shelly Gen2 API docs, Shelly and Sys).
      const nlohmann::json req{{"id", shelly_status_rpc_id(sequence, r.channel)}, {"src", r.rpc_src},
                               {"method", "Shelly.GetStatus"}};
      return Outgoing{r.topic + "/rpc", req.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
    }
    case RelayProtocol::shelly_gen1:
    case RelayProtocol::esphome:
    case RelayProtocol::generic: break;
  }
  return std::nullopt;
}

std::vector<std::string> relay_subscriptions(const RelayConfig& r) {
  switch (r.protocol) {
    case RelayProtocol::tasmota: {
      const std::string stat = tasmota_base(r, "stat"), tele = tasmota_base(r, "tele");
      std::vector<std::string> s{stat + "RESULT", stat + power_key(r), tele + "LWT", tele + "STATE", tele + "SENSOR"};
      if (r.channel == 1) s.push_back(stat + "POWER");
      return s;
    }
    case RelayProtocol::shelly_gen1:
      return {"shellies/" + r.topic + "/relay/" + std::to_string(r.channel),
              "shellies/" + r.topic + "/relay/" + std::to_string(r.channel) + "/power", "shellies/" + r.topic + "/online"};
    case RelayProtocol::shelly_gen2:
      return {r.topic + "/events/rpc", r.topic + "/status/switch:" + std::to_string(r.channel), r.topic + "/online",
              r.rpc_src + "/rpc"};
    case RelayProtocol::esphome:
      return {r.topic + "/switch/" + r.object_id + "/state", r.topic + "/status"};
    case RelayProtocol::generic: {
      std::vector<std::string> s{r.state_topic};
      if (!r.availability_topic.empty()) s.push_back(r.availability_topic);
      return s;
    }
  }
  return {};
}

std::optional<Observation> parse_relay_message(const RelayConfig& r, const std::string& topic,
                                               const std::string& payload) {
  Observation o;
  switch (r.protocol) {
    case RelayProtocol::tasmota: {
      const std::string stat = tasmota_base(r, "stat"), tele = tasmota_base(r, "tele");
      if (topic == stat + power_key(r) || (r.channel == 1 && topic == stat + "POWER")) o.on = on_off(payload);
      else if (topic == stat + "RESULT" || topic == tele + "STATE") {
        o.on = tasmota_json_power(r, payload);
        o.uptime_s = tasmota_uptime(payload);
      }
      else if (topic == tele + "SENSOR") o.power_w = tasmota_energy_power(r, payload);
      else if (topic == tele + "LWT") {
        if (payload == "Online") o.available = true;
        else if (payload == "Offline") o.available = false;
      } else {
        return std::nullopt;
      }
      break;
    }
    case RelayProtocol::shelly_gen1:
      if (topic == "shellies/" + r.topic + "/relay/" + std::to_string(r.channel)) {
        if (payload == "on") o.on = true;
        else if (payload == "off" || payload == "overpower") o.on = false;  // overpower: tripped off
      } else if (topic == "shellies/" + r.topic + "/relay/" + std::to_string(r.channel) + "/power") {
        o.power_w = watts(parse_double(payload));
      } else if (topic == "shellies/" + r.topic + "/online") {
        if (payload == "true") o.available = true;
        else if (payload == "false") o.available = false;
      } else {
        return std::nullopt;
      }
      break;
    case RelayProtocol::shelly_gen2: {
      const std::string key = "switch:" + std::to_string(r.channel);
      if (topic == r.topic + "/online") {
        if (payload == "true") o.available = true;
        else if (payload == "false") o.available = false;
        break;
      }
      // Its topics only, before any parse: every message the intake hands on is offered to every
      // relay, and JSON was parsed for each Shelly Gen2 relay whatever its topic.
      if (topic != r.topic + "/events/rpc" && topic != r.topic + "/status/" + key && topic != r.rpc_src + "/rpc") {
        return std::nullopt;
      }
      const auto j = drivers::text::parse_peer_json(payload);
      if (!j.is_object()) return std::nullopt;
      if (topic == r.topic + "/events/rpc") {
        // NotifyStatus carries only what changed: no "output" key means no news about the switch.
        const auto p = j.find("params");
        if (p != j.end() && p->is_object() && p->contains(key) && (*p)[key].is_object()) {
          const auto& sw = (*p)[key];
          if (sw.contains("output") && sw["output"].is_boolean()) o.on = sw["output"].get<bool>();
          o.power_w = shelly_apower(sw);
        }
      } else if (topic == r.topic + "/status/" + key) {
        if (j.contains("output") && j["output"].is_boolean()) o.on = j["output"].get<bool>();
        o.power_w = shelly_apower(j);
      } else if (topic == r.rpc_src + "/rpc" && is_status_reply(j, r.channel)) {
        // The reply to our Shelly.GetStatus (shelly_status_rpc_id), from this device: its
        // uptime and this switch's output.
        const auto src = j.find("src");
        const auto res = j.find("result");
        if (src == j.end() || !src->is_string() || src->get_ref<const std::string&>() != r.topic || res == j.end() ||
            !res->is_object()) {
          return std::nullopt;
        }
        if (const auto sys = res->find("sys"); sys != res->end() && sys->is_object()) o.uptime_s = uptime_in(*sys, "uptime");
        if (const auto sw = res->find(key); sw != res->end() && sw->is_object()) {
          if (const auto out = sw->find("output"); out != sw->end() && out->is_boolean()) o.on = out->get<bool>();
          o.power_w = shelly_apower(*sw);
        }
      } else if (topic == r.rpc_src + "/rpc") {
        // The reply to our Switch.Set: a "result" means the device carried it out, so the switch
        // now is as commanded, even when nothing changed and so no NotifyStatus came. The
        // request's id carries the channel and the state (shelly_rpc_id); the reply's src is the
        // device, which tells the relays sharing this reply topic apart.
        // Each key is checked for its type: json::value() throws on a "src" that is not a string.
        const auto id = j.find("id");
        const auto src = j.find("src");
        if (src == j.end() || !src->is_string() || src->get_ref<const std::string&>() != r.topic ||
            !j.contains("result") || id == j.end() || !id->is_number_integer()) {
          return std::nullopt;
        }
        const auto v = id->get<long long>();
        if (v < 0 || ((v >> 1) & 63) != r.channel) return std::nullopt;
        o.on = (v & 1) == 1;
      } else {
        return std::nullopt;
      }
      break;
    }
    case RelayProtocol::esphome:
      if (topic == r.topic + "/switch/" + r.object_id + "/state") o.on = on_off(payload);
      else if (topic == r.topic + "/status") {
        if (payload == "online") o.available = true;
        else if (payload == "offline") o.available = false;
      } else {
        return std::nullopt;
      }
      break;
    case RelayProtocol::generic:
      if (topic == r.state_topic) {
        if (payload == r.state_on) o.on = true;
        else if (payload == r.state_off) o.on = false;
      } else if (!r.availability_topic.empty() && topic == r.availability_topic) {
        if (payload == r.available) o.available = true;
        else if (payload == r.not_available) o.available = false;
      } else {
        return std::nullopt;
      }
      break;
  }
  if (!o.on && !o.available && !o.power_w && !o.uptime_s) return std::nullopt;
  return o;
}

}  // namespace drivers::mqtt
