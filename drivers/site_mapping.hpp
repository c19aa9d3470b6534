#pragma once
// From the configured devices to the rules' snapshot: which readings stand for the battery's
// voltage, current and temperature, the PV and the load, best first, each named as its kind
// names it; and the chargers' evidence that they hold PV back. Built from the kinds' offers
// (drivers/device_kind.hpp): nothing here names a kind.
#include <span>
#include <string>
#include <vector>

#include "drivers/device_kind.hpp"
#include "drivers/readings.hpp"

namespace drivers {

// The readings the enabled devices offer for `q`, best rank first (equal ranks in the devices'
// order); for the load, those of the best rank only (one meter of the site's load).
std::vector<std::string> offered(std::span<const DeviceSettings> devices, Quantity q);

// The same, as measurements of parts: offers of one rank that are each device's share (Offer::share)
// form one measurement, summed; any other offer is one by itself.
std::vector<std::vector<std::string>> offered_parts(std::span<const DeviceSettings> devices, Quantity q);

// An offer's source name ("battery_monitor", "solark") as device `d` names it ("gx2_battery_monitor",
// "solark_a").
std::string instance_word_of(const DeviceSettings& d, std::string_view name);

// How an offer names `reading` ("battery_monitor", "the battery monitor's voltage"); a reading
// no device offers for `q` (a sensor's) is named by itself.
SourceSpec source_spec(std::span<const DeviceSettings> devices, Quantity q, const std::string& reading);

// The mapping every offer makes: battery voltage, current and temperature, PV and load.
SnapshotMapping mapping_for(std::span<const DeviceSettings> devices);

// The chargers' words (a GX solar charger's state) and the chargers judged by their battery held
// at the site's setpoints (`absorption_v`, `float_v`), for every enabled device that has them.
void add_charger_evidence(std::span<const DeviceSettings> devices, double absorption_v, double float_v,
                          SnapshotMapping& mapping);

}  // namespace drivers
