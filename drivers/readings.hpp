#pragma once
// The latest good value of every reading, each with the instant it was read, and the mapping
// from readings to the rules' snapshot. A reading a poll did not return keeps its old value
// and old `as_of`, so it turns stale in the rules instead of turning into 0.
#include <array>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "drivers/modbus_device.hpp"
#include "rules/snapshot.hpp"

namespace drivers {

class ReadingStore {
 public:
  void update(const PollResult& poll);
  void set(const std::string& name, double value, SteadyTime as_of);
  std::optional<rules::Reading> get(std::string_view name) const;

  // The first candidate read within `fresh_within` of `now`, else the most recent of them.
  std::optional<rules::Reading> first_fresh(const std::vector<std::string>& names, SteadyTime now,
                                            rules::Duration fresh_within) const;
  // The sum of all, as old as its oldest part; missing if any part is missing (never a
  // partial sum that looks like a real value).
  std::optional<rules::Reading> sum(const std::vector<std::string>& names) const;
  // The same, except that when some parts are fresh (within `fresh_within`) and others are
  // missing or stale, the fresh ones are summed and `partial` is set: a lower bound for sums of
  // parts that are never negative (PV, consumption), which the rules use only as such.
  struct Sum {
    std::optional<rules::Reading> reading;
    bool partial = false;
  };
  Sum sum_fresh(const std::vector<std::string>& names, SteadyTime now, rules::Duration fresh_within) const;

 private:
  // Looked up by name about 120 times a cycle (the poll's readings, the snapshot's sources, the
  // devices' status): hashed, not an ordered map, whose lookups compared the names' shared
  // prefixes ("victron.", "battery.") at each of its levels (callgrind: 30k of the loop's 206k
  // instructions a cycle, issue 57). Nothing walks it in order. Found by a string_view too.
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const noexcept { return std::hash<std::string_view>{}(name); }
  };
  std::unordered_map<std::string, rules::Reading, NameHash, std::equal_to<>> latest_;
};

// A reading that stands for a site quantity, with the words that name it (a kind's offer,
// drivers/device_kind.hpp; a sensor's reading is named by itself).
struct SourceSpec {
  std::string reading;  // "battery.battery_v"
  std::string name;     // "battery_monitor"
  std::string label;    // "the battery monitor's voltage"
};

// Which readings feed which snapshot field, built from the configured devices' offers and the
// config's readings: section (drivers/site_mapping.hpp). Empty: nothing is read.
struct SnapshotMapping {
  std::vector<SourceSpec> battery_v;       // in the order of preference
  // Likewise; each entry the parts of one measurement, summed: inverters in parallel each carry
  // their share of the bank's current (one part for a battery monitor).
  std::vector<std::vector<std::string>> battery_a;
  std::vector<SourceSpec> battery_temp_c;  // likewise
  std::vector<std::string> pv_w;           // summed
  std::vector<std::string> load_w;         // summed
  std::vector<std::string> zone_temp_c;  // one reading name per zone, in zone order
  // Readings that say the chargers hold PV back at one of these values: a GX solar charger
  // tracking "voltage/current limited" (791: 1), or, only where its 791 is not read, in
  // absorption, float or storage (775: 4, 5, 6). Any one fresh and matching is "limiting"; none
  // fresh is unknown.
  struct Limiting {
    std::string reading;
    std::vector<int> values;
    std::string label;  // for people, when it matches: "GX solar charger 1 in float"
    std::string unless_read{};  // counts only while this reading is not fresh (the stronger word)
  };
  std::vector<Limiting> chargers_limiting;
  // A charger that reports no state of its own (the Sol-Ark: no charge-stage register in the V1.4
  // map) is judged by the physics: its battery held at the absorption voltage, or at float with
  // no more than a taper current either way, while its PV produces, is a charger regulating the
  // voltage, not one taking all the panels give (in bulk the voltage is below absorption, and it
  // passes float with a large current). The setpoints are the site's thresholds.
  struct HeldAtSetpoint {
    std::string label;  // "the Sol-Ark"
    std::string battery_v, battery_a;
    std::vector<std::string> pv_w;
    double absorption_v = 0, float_v = 0;
    double margin_v = 0.2;  // a terminal reading within this of the setpoint is at it
    double taper_a = 10;    // the end of absorption and float on a bank of a few hundred Ah
    double min_pv_w = 50;   // producing: not the dusk or the night
  };
  std::vector<HeldAtSetpoint> chargers_held;
  // The AC sources, in the rules' order (rules::ac_source): per phase the readings summed into
  // its output (missing if any part is: a partial sum is no load figure), and its overload words
  // (the worst fresh one counts; with one missing and none warning, not known).
  struct AcSourceSpec {
    std::array<std::vector<std::string>, 3> load_w;
    std::vector<std::string> overload;
    std::array<std::vector<std::string>, 3> overload_phase;
  };
  std::vector<AcSourceSpec> ac;
  // Whether a generator feeds the site (rules::Snapshot::generator_running): any fresh word at a
  // running value says yes; else any fresh one at a not-running value says no; else not known.
  struct GeneratorWord {
    std::string reading;
    std::vector<int> running, not_running;
  };
  std::vector<GeneratorWord> generator_running;
  rules::Duration fresh_within = std::chrono::seconds(30);
};

rules::Snapshot build_snapshot(const ReadingStore& store, const SnapshotMapping& mapping, SteadyTime now,
                               std::optional<int> local_minute_of_day);

}  // namespace drivers
