#pragma once
// The site's switchable loads as the outside world names them: by relay id, which is unique,
// topic-safe, and what a site owner wires and configures.
#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/site/profiles.hpp"
#include "rules/decision.hpp"
#include "rules/state.hpp"

namespace shackd {

struct LoadRef {
  enum class Kind { miner, fan, heater } kind;
  std::size_t index;     // into rules.miners (miner) or rules.zones (fan, heater)
  std::string id;        // the relay id: "primary_s21", "heat_room_fan"
  std::string name;      // for people: "Primary S21+", "Heat Room fan"
  std::string state_key; // load_state.load_id: "miner:Primary S21+", "fan:Heat Room"
};

// Every load that has a relay, miners first (in profile order), then each zone's fan and heater.
// A disabled load is listed only when `defined_relays` holds its relay (it is then held off) and
// no enabled load switches the same one; with no set, every load with a relay id is listed.
std::vector<LoadRef> load_refs(const StoredProfiles& p, const std::set<std::string>* defined_relays = nullptr);

// The load a topic level names: its relay id exactly, else its id or its name as an owner would
// write it in a topic, with case and punctuation folded ("antminer-a", "Antminer_A" and
// "Antminer A" all name relay antminer_a, or the load named "Antminer A"). Empty when none does;
// more than one when the folded form is ambiguous (the caller refuses and lists them).
std::vector<const LoadRef*> find_load(const std::vector<LoadRef>& loads, std::string_view addressed);

const char* kind_name(LoadRef::Kind k);

// What a load draws when on, from its profile: a miner's power_w, a heater's heater_power_w; a
// fan has no rating (0).
double rated_draw_w(const rules::Profiles& p, const LoadRef& l);

// An override mode as load_state, MQTT and the cycle journal write it: "auto", "on", "off".
const char* mode_name(rules::OverrideMode m);

// The rules' decision for one load.
const rules::LoadDecision& decision_for(const rules::Decision& d, const LoadRef& load);

// The rules' state of one load (works for const and mutable states).
template <typename State>
auto& state_of(State& s, const LoadRef& l) {
  switch (l.kind) {
    case LoadRef::Kind::fan: return s.zones.at(l.index).fan;
    case LoadRef::Kind::heater: return s.zones.at(l.index).heater;
    case LoadRef::Kind::miner: break;
  }
  return s.miners.at(l.index);
}

}  // namespace shackd
