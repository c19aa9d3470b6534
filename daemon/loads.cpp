#include "daemon/loads.hpp"

namespace shackd {

const char* kind_name(LoadRef::Kind k) {
  switch (k) {
    case LoadRef::Kind::miner: return "miner";
    case LoadRef::Kind::fan: return "fan";
    case LoadRef::Kind::heater: return "heater";
  }
  return "miner";
}

std::vector<LoadRef> load_refs(const StoredProfiles& p) {
  std::vector<LoadRef> out;
  for (std::size_t i = 0; i < p.rules.miners.size() && i < p.miners.size(); ++i) {
    if (p.miners[i].relay_id.empty()) continue;
    const auto& name = p.rules.miners[i].name;
    out.push_back({LoadRef::Kind::miner, i, p.miners[i].relay_id, name, "miner:" + name});
  }
  for (std::size_t i = 0; i < p.rules.zones.size() && i < p.zones.size(); ++i) {
    const auto& name = p.rules.zones[i].name;
    if (p.zones[i].exhaust_fan_relay) {
      out.push_back({LoadRef::Kind::fan, i, *p.zones[i].exhaust_fan_relay, name + " fan", "fan:" + name});
    }
    if (p.zones[i].heater_relay) {
      out.push_back({LoadRef::Kind::heater, i, *p.zones[i].heater_relay, name + " heater", "heater:" + name});
    }
  }
  return out;
}

}  // namespace shackd
