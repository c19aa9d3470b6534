#pragma once
// The site's switchable loads as the outside world names them: by relay id, which is unique,
// topic-safe, and what a site owner wires and configures.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "daemon/profiles.hpp"

namespace shackd {

struct LoadRef {
  enum class Kind { miner, fan, heater } kind;
  std::size_t index;     // into rules.miners (miner) or rules.zones (fan, heater)
  std::string id;        // the relay id: "primary_s21", "heat_room_fan"
  std::string name;      // for people: "Primary S21+", "Heat Room fan"
  std::string state_key; // load_state.load_id: "miner:Primary S21+", "fan:Heat Room"
};

// Every load that has a relay, miners first (in profile order), then each zone's fan and heater.
// A disabled load is listed only when `relay_defined` knows its relay (it is then held off); with
// no such function every load with a relay id is listed.
std::vector<LoadRef> load_refs(const StoredProfiles& p,
                               const std::function<bool(const std::string&)>& relay_defined = nullptr);

const char* kind_name(LoadRef::Kind k);

}  // namespace shackd
