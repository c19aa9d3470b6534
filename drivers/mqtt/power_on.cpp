#include "drivers/mqtt/power_on.hpp"

#include <nlohmann/json.hpp>

#include "drivers/text/json_in.hpp"
#include "drivers/text/utf8.hpp"

namespace drivers::mqtt {

namespace {

std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

// The ids a Shelly answers with (shelly_config_rpc_id): which call, and which switch.
bool shelly_id_is(long long id, int channel, ShellyConfigCall call) {
  return id >= 0 && ((id >> 5) & 3) == static_cast<long long>(call) && ((id >> 1) & 15) == channel;
}

}  // namespace

PowerOnState tasmota_power_on(int value) {
  // Tasmota docs, "PowerOnState": one setting for every relay of the device; applied when it is
  // powered up, not on a warm restart (which restores the saved state).
  const std::string v = std::to_string(value);
  switch (value) {
    case 0: return {v, PowerOnRisk::off, "stays OFF until commanded (PowerOnState 0)"};
    case 1: return {v, PowerOnRisk::on, "comes back ON (PowerOnState 1)"};
    case 2: return {v, PowerOnRisk::on, "toggles from its last saved state: ON if it was off (PowerOnState 2)"};
    case 3:
      return {v, PowerOnRisk::on, "returns to its last saved state: ON if it was on at the cut (PowerOnState 3, "
                                  "Tasmota's default)"};
    case 4:
      return {v, PowerOnRisk::on, "comes back ON and ignores every command: shackd cannot switch it off "
                                  "(PowerOnState 4)"};
    case 5: return {v, PowerOnRisk::on, "comes back ON once its PulseTime has passed (PowerOnState 5)"};
    default: return {v, PowerOnRisk::unknown, "PowerOnState " + v + ", which Tasmota's documentation does not name"};
  }
}

PowerOnState shelly_initial_state(const std::string& value) {
  const std::string v = text::clean_utf8(value, 40);
  if (value == "off") return {v, PowerOnRisk::off, "stays OFF until commanded (initial_state off)"};
  if (value == "on") return {v, PowerOnRisk::on, "comes back ON (initial_state on)"};
  if (value == "restore_last") {
    return {v, PowerOnRisk::on, "returns to its last state: ON if it was on at the cut (initial_state restore_last)"};
  }
  if (value == "match_input") {
    return {v, PowerOnRisk::follows_input, "follows its input: ON if its switch is on (initial_state match_input)"};
  }
  return {v, PowerOnRisk::unknown, "initial_state '" + v + "', which Shelly's documentation does not name"};
}

std::string power_on_unreadable(const RelayConfig& r) {
  switch (r.protocol) {
    case RelayProtocol::tasmota:
    case RelayProtocol::shelly_gen2: return "";
    case RelayProtocol::shelly_gen1:
      // Gen1's MQTT API switches and reports; its settings are HTTP only (Shelly Gen1 API,
      // /settings/relay/<n>: default_state off, on, last or switch).
      return "a Shelly Gen1 says its power-on state over HTTP only: set \"Power On Default Mode\" to OFF in its web "
             "page (or http://<its address>/settings/relay/" + std::to_string(r.channel) + "?default_state=off)";
    case RelayProtocol::esphome:
      // ESPHome's switch restore_mode is compiled into the firmware and not published over MQTT
      // (ESPHome docs, Switch Component, restore_mode).
      return "ESPHome compiles the power-on state into its firmware and does not publish it: set restore_mode: "
             "ALWAYS_OFF on the switch in its YAML and flash it";
    case RelayProtocol::generic:
      return "a generic relay has no known way to say how it powers up: set it to stay off on the device itself";
  }
  return "";
}

std::string power_on_off_setting(const RelayConfig& r) {
  return r.protocol == RelayProtocol::tasmota ? "0" : r.protocol == RelayProtocol::shelly_gen2 ? "off" : "";
}

long long shelly_config_rpc_id(int sequence, int channel, ShellyConfigCall call) {
  return static_cast<long long>(sequence) * 128 + static_cast<int>(call) * 32 + (channel & 15) * 2;
}

std::optional<Outgoing> power_on_query(const RelayConfig& r, int sequence) {
  if (r.protocol == RelayProtocol::tasmota) {
    // A command without a payload is a query (Tasmota docs, Commands): it answers with the value.
    return Outgoing{tasmota_base(r, "cmnd") + "PowerOnState", ""};
  }
  if (r.protocol == RelayProtocol::shelly_gen2) {
    const nlohmann::json req{{"id", shelly_config_rpc_id(sequence, r.channel, ShellyConfigCall::get)},
                             {"src", r.rpc_src},
                             {"method", "Switch.GetConfig"},
                             {"params", {{"id", r.channel}}}};
    return Outgoing{r.topic + "/rpc", dump(req)};
  }
  return std::nullopt;
}

std::optional<Outgoing> power_on_set_off(const RelayConfig& r, int sequence) {
  if (r.protocol == RelayProtocol::tasmota) return Outgoing{tasmota_base(r, "cmnd") + "PowerOnState", "0"};
  if (r.protocol == RelayProtocol::shelly_gen2) {
    const nlohmann::json req{{"id", shelly_config_rpc_id(sequence, r.channel, ShellyConfigCall::set)},
                             {"src", r.rpc_src},
                             {"method", "Switch.SetConfig"},
                             {"params", {{"id", r.channel}, {"config", {{"initial_state", "off"}}}}}};
    return Outgoing{r.topic + "/rpc", dump(req)};
  }
  return std::nullopt;
}

std::vector<std::string> power_on_subscriptions(const RelayConfig& r) {
  if (r.protocol == RelayProtocol::tasmota) {
    const std::string stat = tasmota_base(r, "stat");
    return {stat + "RESULT", stat + "POWERONSTATE"};
  }
  if (r.protocol == RelayProtocol::shelly_gen2) return {r.rpc_src + "/rpc", r.topic + "/events/rpc"};
  return {};
}

std::optional<PowerOnAnswer> parse_power_on(const RelayConfig& r, const std::string& topic, const std::string& payload) {
  if (r.protocol == RelayProtocol::tasmota) {
    // {"PowerOnState":3} on stat/<t>/RESULT, or on stat/<t>/POWERONSTATE with SetOption4 1.
    const std::string stat = tasmota_base(r, "stat");
    if (topic != stat + "RESULT" && topic != stat + "POWERONSTATE") return std::nullopt;
    const auto j = drivers::text::parse_peer_json(payload);
    if (!j.is_object()) return std::nullopt;
    const auto v = j.find("PowerOnState");
    if (v == j.end()) return std::nullopt;
    PowerOnAnswer a;
    if (v->is_number_integer()) a.state = tasmota_power_on(v->get<int>());
    else a.refused = "PowerOnState is not a number: " + text::clean_utf8(dump(*v), 40);
    return a;
  }
  if (r.protocol != RelayProtocol::shelly_gen2) return std::nullopt;
  if (topic == r.topic + "/events/rpc") {
    // NotifyEvent {"params":{"events":[{"component":"switch:0","event":"config_changed",...}]}}
    // when a configuration changes, by whoever (Shelly Gen2 docs, Components: Notifications).
    const auto j = drivers::text::parse_peer_json(payload);
    if (!j.is_object() || j.value("method", nlohmann::json()) != "NotifyEvent") return std::nullopt;
    // Iterators of different objects never compare (nlohmann throws): each looked up in its own.
    const auto p = j.find("params");
    if (p == j.end() || !p->is_object()) return std::nullopt;
    const auto events = p->find("events");
    if (events == p->end() || !events->is_array()) return std::nullopt;
    const std::string component = "switch:" + std::to_string(r.channel);
    for (const auto& e : *events) {
      if (e.is_object() && e.value("component", nlohmann::json()) == component &&
          e.value("event", nlohmann::json()) == "config_changed") {
        PowerOnAnswer a;
        a.changed = true;
        return a;
      }
    }
    return std::nullopt;
  }
  if (topic != r.rpc_src + "/rpc") return std::nullopt;
  const auto j = drivers::text::parse_peer_json(payload);
  if (!j.is_object()) return std::nullopt;
  // The device's own reply to one of our configuration calls for this switch: its src is the
  // device (relays share the reply topic), its id says which call and which switch.
  const auto src = j.find("src");
  const auto id = j.find("id");
  if (src == j.end() || !src->is_string() || src->get_ref<const std::string&>() != r.topic || id == j.end() ||
      !id->is_number_integer()) {
    return std::nullopt;
  }
  const long long n = id->get<long long>();
  const bool get = shelly_id_is(n, r.channel, ShellyConfigCall::get);
  const bool set = shelly_id_is(n, r.channel, ShellyConfigCall::set);
  if (!get && !set) return std::nullopt;
  PowerOnAnswer a;
  if (const auto e = j.find("error"); e != j.end()) {
    const nlohmann::json* msg = nullptr;
    if (e->is_object()) {
      if (const auto m = e->find("message"); m != e->end() && m->is_string()) msg = &*m;
    }
    a.refused = msg ? text::clean_utf8(msg->get<std::string>(), 120)
                    : text::clean_utf8(e->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 120);
    return a;
  }
  const auto res = j.find("result");
  if (res == j.end() || !res->is_object()) return std::nullopt;
  if (set) {
    a.set_taken = true;
    return a;
  }
  const auto st = res->find("initial_state");
  if (st == res->end() || !st->is_string()) {
    a.refused = "its configuration has no initial_state";
    return a;
  }
  a.state = shelly_initial_state(st->get<std::string>());
  return a;
}

}  // namespace drivers::mqtt
