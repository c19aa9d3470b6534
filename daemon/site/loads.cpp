#include "daemon/site/loads.hpp"

#include <cctype>

namespace shackd {

const char* mode_name(rules::OverrideMode m) {
  switch (m) {
    case rules::OverrideMode::on: return "on";
    case rules::OverrideMode::off: return "off";
    case rules::OverrideMode::automatic: break;
  }
  return "auto";
}

const char* kind_name(LoadRef::Kind k) {
  switch (k) {
    case LoadRef::Kind::miner: return "miner";
    case LoadRef::Kind::fan: return "fan";
    case LoadRef::Kind::heater: return "heater";
  }
  return "miner";
}

double rated_draw_w(const rules::Profiles& p, const LoadRef& l) {
  switch (l.kind) {
    case LoadRef::Kind::miner: return p.miners.at(l.index).power_w;
    case LoadRef::Kind::heater: return p.zones.at(l.index).heater_power_w;
    case LoadRef::Kind::fan: break;
  }
  return 0;
}

std::vector<LoadRef> load_refs(const StoredProfiles& p, const std::set<std::string>* defined_relays) {
  std::vector<LoadRef> out;
  // A disabled load holds its relay off, unless an enabled load switches the same relay.
  std::set<std::string> enabled_relays;
  for (std::size_t i = 0; i < p.rules.miners.size() && i < p.miners.size(); ++i) {
    if (p.rules.miners[i].enabled) enabled_relays.insert(p.miners[i].relay_id);
  }
  for (std::size_t i = 0; i < p.rules.zones.size() && i < p.zones.size(); ++i) {
    if (!p.rules.zones[i].enabled) continue;
    if (p.zones[i].exhaust_fan_relay) enabled_relays.insert(*p.zones[i].exhaust_fan_relay);
    if (p.zones[i].heater_relay) enabled_relays.insert(*p.zones[i].heater_relay);
  }
  const auto listed = [&](bool enabled, const std::string& relay) {
    return enabled || (!enabled_relays.count(relay) && (!defined_relays || defined_relays->count(relay)));
  };
  for (std::size_t i = 0; i < p.rules.miners.size() && i < p.miners.size(); ++i) {
    if (p.miners[i].relay_id.empty() || !listed(p.rules.miners[i].enabled, p.miners[i].relay_id)) continue;
    const auto& name = p.rules.miners[i].name;
    out.push_back({LoadRef::Kind::miner, i, p.miners[i].relay_id, name, "miner:" + name});
  }
  for (std::size_t i = 0; i < p.rules.zones.size() && i < p.zones.size(); ++i) {
    const auto& name = p.rules.zones[i].name;
    const bool enabled = p.rules.zones[i].enabled;
    if (p.zones[i].exhaust_fan_relay && listed(enabled, *p.zones[i].exhaust_fan_relay)) {
      out.push_back({LoadRef::Kind::fan, i, *p.zones[i].exhaust_fan_relay, name + " fan", "fan:" + name});
    }
    if (p.zones[i].heater_relay && listed(enabled, *p.zones[i].heater_relay)) {
      out.push_back({LoadRef::Kind::heater, i, *p.zones[i].heater_relay, name + " heater", "heater:" + name});
    }
  }
  return out;
}

namespace {

// Lower case, each run of anything but a letter or digit one '_', none at the ends.
std::string folded(std::string_view s) {
  std::string out;
  bool gap = false;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) && u < 0x80) {
      if (gap && !out.empty()) out += '_';
      gap = false;
      out += static_cast<char>(std::tolower(u));
    } else {
      gap = true;
    }
  }
  return out;
}

}  // namespace

std::vector<const LoadRef*> find_load(const std::vector<LoadRef>& loads, std::string_view addressed) {
  for (const auto& l : loads) {
    if (l.id == addressed) return {&l};
  }
  std::vector<const LoadRef*> found;
  const std::string want = folded(addressed);
  if (want.empty()) return found;
  for (const auto& l : loads) {
    if (folded(l.id) == want || folded(l.name) == want) found.push_back(&l);
  }
  return found;
}

const rules::LoadDecision& decision_for(const rules::Decision& d, const LoadRef& load) {
  switch (load.kind) {
    case LoadRef::Kind::miner: return d.miners.at(load.index);
    case LoadRef::Kind::fan: return d.zones.at(load.index).fan;
    case LoadRef::Kind::heater: return d.zones.at(load.index).heater;
  }
  return d.miners.at(load.index);
}

}  // namespace shackd
