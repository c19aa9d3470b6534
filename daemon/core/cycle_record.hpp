#pragma once
// One cycle as the safety path leaves it (issue 57, part 1): the snapshot and the decision made
// into it by the core (daemon/core/safety_core.hpp), the site in force shared with the core, and,
// added once after the relays, what the relays, the devices and the loop said. Sealed, it is
// immutable and shared by pointer: the publisher's thread, the metrics, the recorder and the
// energy meter each read the same record and build their own projection of it. Before it, the
// publisher copied the snapshot, decision, state, profiles and loads every cycle, and the others
// read the core's members, which the next cycle overwrote.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/core/loop_stats.hpp"
#include "daemon/site/loads.hpp"
#include "daemon/site/profiles.hpp"
#include "drivers/modbus_device.hpp"
#include "drivers/mqtt/power_on_watch.hpp"
#include "drivers/mqtt/relay_protocol.hpp"
#include "drivers/readings.hpp"
#include "rules/decision.hpp"
#include "rules/snapshot.hpp"
#include "rules/time.hpp"

namespace shackd {

// What a config and the stored profiles make of the core: taken whole (a start, a reload, a
// setting), shared by the core and every record decided with it.
struct CoreSite {
  StoredProfiles profiles;
  std::vector<LoadRef> loads;
  drivers::SnapshotMapping mapping;
};

// What a load's relay said, as of the cycle: what the device reported, and how it powers up.
struct RelayFacts {
  std::optional<bool> observed;
  // Set: the relay manager switches it. Shared with the manager, not copied: a record a cycle
  // for every relay copied each one's topics and payloads (issue 57).
  std::shared_ptr<const drivers::mqtt::RelayConfig> config;
  drivers::mqtt::PowerOnStatus power_on;
  std::optional<rules::SteadyTime> observed_since;  // when the reported state last changed
  std::optional<double> power_w;                    // the load's draw, where the relay meters it
  std::optional<rules::SteadyTime> power_at;
};

struct CycleRecord {
  // The decided part (SafetyCore::decide): the snapshot and the rules' decision made in place.
  rules::SteadyTime now{};  // when the cycle read its inputs
  std::int64_t wall_s = 0;
  rules::Snapshot snap;
  rules::Decision decision;  // its `next` is the state the rules leave for the next cycle
  std::shared_ptr<const CoreSite> site;  // the site in force when it was sealed
  // Added after the relays (SafetyCore::seal), before anybody reads it.
  bool relays = false;                      // a relay manager runs: `relay` is what it knows
  std::map<std::string, RelayFacts> relay;  // by relay id
  std::vector<std::pair<std::string, drivers::DeviceHealth>> devices;  // each device's health, in poll order
  std::map<std::string, double> own_draw_w;  // by load id: a miner's own fresh word on its draw (its API)
  LoopStats loop;

  const rules::State& state() const { return decision.next; }
  const StoredProfiles& profiles() const { return site->profiles; }
  const std::vector<LoadRef>& loads() const { return site->loads; }
};

using CycleRecordPtr = std::shared_ptr<const CycleRecord>;

}  // namespace shackd
