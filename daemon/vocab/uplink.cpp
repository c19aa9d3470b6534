#include "daemon/vocab/uplink.hpp"

#include <nlohmann/json.hpp>

#include "drivers/text/utf8.hpp"
#include "rules/reason.hpp"

namespace shackd {

using json = nlohmann::json;

std::string uplink_topic(const std::string& prefix, const std::string& site_id, const char* leaf) {
  return prefix + "/site/" + site_id + "/" + leaf;
}

std::optional<BridgeNews> bridge_state(const std::string& topic, const std::string& payload, std::int64_t wall_s,
                                       std::string& why, std::map<std::string, MqttHealth::Bridge>& bridges,
                                       const std::string& only) {
  static constexpr std::string_view head = "$SYS/broker/connection/", tail = "/state";
  const std::string_view t = topic;
  if (t.size() <= head.size() + tail.size() || !t.starts_with(head) || !t.ends_with(tail)) return std::nullopt;
  const std::string_view name = t.substr(head.size(), t.size() - head.size() - tail.size());
  if (name.find('/') != std::string_view::npos) return std::nullopt;
  BridgeNews n;
  n.bridge = drivers::text::clean_utf8(std::string(name), 64);
  if (name != only) {
    why = "bridge " + n.bridge + ": not this site's (" + only + ", uplink.bridge): ignored";
    return std::nullopt;
  }
  if (payload != "0" && payload != "1") {
    why = "bridge " + n.bridge + ": state '" + drivers::text::clean_utf8(payload, 20) + "' is neither 0 nor 1";
    return std::nullopt;
  }
  n.connected = payload == "1";
  auto it = bridges.find(n.bridge);
  if (it == bridges.end()) {
    if (bridges.size() >= kMaxBridges) {
      why = "bridge " + n.bridge + ": more than " + std::to_string(kMaxBridges) + " bridges named on $SYS, not kept";
      return std::nullopt;
    }
    it = bridges.emplace(n.bridge, MqttHealth::Bridge{n.connected, wall_s, 0}).first;
    n.first = true;
    return n;
  }
  // The broker repeats a state (a retained one again at a resubscribe): news only when it changes.
  if (it->second.connected == n.connected) return n;
  it->second.connected = n.connected;
  it->second.since_unix_s = wall_s;
  ++it->second.changes;
  n.changed = true;
  return n;
}

std::string uplink_state_json(const CycleFacts& v, const std::string& site_id, const std::string& site_name,
                              std::int64_t wall_s) {
  json j{{"site", site_id}, {"name", site_name}, {"at", local_iso(wall_s)}, {"at_unix_s", wall_s}};
  const json state = json::parse(state_json(v.record->snap, v.record->decision, v.record->profiles()), nullptr, false);
  j["state"] = state.is_discarded() ? json(nullptr) : state;
  j["charging_blocked"] = v.record->decision.block_charging;
  json alarms = json::array();
  for (const auto& a : v.record->decision.alarms) alarms.push_back(std::string(rules::code_name(a.code)));
  j["alarms"] = alarms;
  j["device_alarms"] = v.device_alarms.active().size();
  json loads = json::object();
  for (const auto& l : v.record->loads()) {
    const auto& d = decision_for(v.record->decision, l);
    json x{{"on", d.on}, {"reason", std::string(rules::code_name(d.reason.code))}};
    const auto r = v.record->relays ? v.record->relay.find(l.id) : v.record->relay.end();
    const auto observed = r != v.record->relay.end() ? r->second.observed : std::nullopt;
    x["observed"] = observed ? json(*observed) : json(nullptr);
    loads[l.id] = x;
  }
  j["loads"] = loads;
  j["mqtt_outages"] = v.mqtt.outages;
  j["store_errors"] = v.record->loop.store_errors;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace shackd
