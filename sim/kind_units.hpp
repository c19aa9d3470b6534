#pragma once
// Any device kind served from its own tables: each unit slot at its default id, over the span
// of addresses its table reads, and its charge-limit registers writable. What `shackd-sim
// --device NAME=KIND:PORT` serves; the model answers each table by its service name.
#include <optional>
#include <vector>

#include "drivers/device_kind.hpp"
#include "sim/model.hpp"
#include "sim/server.hpp"

namespace sim {

// The unit ids an owner gave, per slot of the kind (DeviceSettings::unit_ids); a slot left empty
// (or no list at all) is served at its default id.
using UnitIds = std::vector<std::vector<int>>;

// The units to serve for `kind` (slots with neither an id given nor a default, such as the GX's
// solar chargers, are left out).
std::vector<UnitSpec> units_for(const drivers::DeviceKind& kind, const UnitIds& ids = {});

// Makes each of the kind's charge-limit registers writable on `server`, holding `initial_a`
// (or its "no limit" value where that is not 0, as the GX's DVCC -1).
void serve_charge_limits(DeviceServer& server, const drivers::DeviceKind& kind, int initial_a, const UnitIds& ids = {});

// The lowest charge limit the kind's registers on `server` hold now (A), if any holds one.
std::optional<double> charge_limit_a(const DeviceServer& server, const drivers::DeviceKind& kind, const UnitIds& ids = {});

// One more device beside the GX and the Sol-Ark, and its kind.
struct ServedDevice {
  const DeviceServer* server = nullptr;
  const drivers::DeviceKind* kind = nullptr;
  UnitIds ids;
};
// Sets the model's chargers' limits from what the controller wrote: the GX's DVCC max charge
// current (2705, -1 none) caps the Victron MPPTs; the lowest of the Sol-Ark's 210 and every other
// inverter's own limit caps the inverters' PV (a cold block writes them all). The caller holds
// the model's mutex.
void couple_charge_limits(SiteModel& model, const DeviceServer& victron, const DeviceServer& solark, int solark_unit,
                          const std::vector<ServedDevice>& others);

}  // namespace sim
