#pragma once
// The cycle journal: what the rules were given, cycle by cycle, so that `shackd replay` can run
// them again on exactly the same inputs (issue 12, point 7). Minute averages cannot do that: a
// 20-second sag that stopped a heater is gone from its minute's average.
//
// One text per UTC minute (table cycle_journal, schema 0005), one line per entry, fields
// separated by tabs (names hold spaces, never tabs):
//   Z <zone> <zone> ...       the zone names, in profile order, for the cycles that follow
//   V <source> <source> ...   the battery voltage sources, in the owner's order
//   T <source> <source> ...   the battery temperature sources, in the owner's order
//   X <input> <input> ...     further site inputs, each one field after the zone temperatures:
//                             chargers_limiting (1 while the chargers hold PV back, else 0)
//                             miner_w:<miner> (what a miner with an API says it draws, W)
//                             miner_temp_c:<miner> (its hottest sensor, °C)
//                             miner_temp_limit_c:<miner> (that sensor's limit, °C)
//                             miner_powered:<miner> (1: its relay still on after a stop)
//                             miner_target_ignored:<miner> (1: it does not follow its target)
//                             generator_running (1 while a generator feeds the site, else 0)
//                             per AC source, by its name, those of its words the devices give
//                             (issue 59): ac_overload:<source> (its own warning: 0 ok, 1
//                             warning, 2 alarm), then for L1, L2, L3 ac_load_w:L<n>:<source>
//                             (its output, W) and ac_phase_overload:L<n>:<source> (that
//                             phase's warning)
//                             (Z, V, T and X first in every minute, and again after a reload
//                             changes them; a minute without V and T was written before the
//                             sources were ranked: V battery_monitor gx_system solark, T one;
//                             a minute without X before the chargers' word was read: none)
//   S                         shackd started here: the state was restored from load_state
//   C <ms> <steady_ms> <local_min> <battery_v per V source> <battery_a> <battery_temp_c per T
//     source> <pv_w> <load_w> <zone temps...> <X inputs...>
//     [<state_key>=<on|off>:<remaining_ms|->...]
//                             one cycle: ms into the minute (wall clock), the monotonic clock
//                             in ms, minutes since local midnight ('-' while the clock is not
//                             trusted), each reading as <value>@<age_ms> or '-' when missing
//                             (pv_w and load_w as ><value>@<age_ms> when a part of the sum was
//                             missing: a lower bound), then every override in force.
// Values are written in their shortest exact form: a replay sees the bits the rules saw.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rules/snapshot.hpp"
#include "rules/state.hpp"

namespace shackd {

// One AC source as the journal carries it (issue 59): its name and which of its words the site's
// devices give (only those are written: most sites have one phase and no per-phase word).
struct JournalAc {
  std::string name;
  bool overload = false;
  std::array<bool, 3> load_w{}, phase_overload{};
};

struct JournalOverride {
  std::string state_key;  // "miner:Primary S21+"
  rules::OverrideMode mode = rules::OverrideMode::automatic;
  std::optional<std::int64_t> remaining_ms;  // nullopt: until cleared
};

// The C line for one cycle (without the trailing newline).
// `miners`: the profile indexes of the miners to write, as the header's miner_* inputs.
// `ac`: the AC sources as the header names them, in the order of the snapshot's `ac`.
std::string journal_cycle_line(const rules::Snapshot& snap, std::int64_t wall_ms,
                               const std::vector<JournalOverride>& overrides, const std::vector<std::size_t>& miners = {},
                               const std::vector<JournalAc>& ac = {});
// The Z, V, T and X lines (without the trailing newline) for these zones and the snapshot's
// sources; `miner_names`: the miners whose own word the cycles carry (miner_w, miner_temp_c and
// miner_temp_limit_c:<name>); `ac`: the AC sources and the words of theirs the cycles carry.
std::string journal_header(const std::vector<std::string>& zone_names, const std::vector<std::string>& voltage_sources,
                           const std::vector<std::string>& temperature_sources,
                           const std::vector<std::string>& miner_names = {},
                           const std::vector<JournalAc>& ac = {});

// The whole of `s` as a number (std::from_chars: exact, no locale), or nullopt.
std::optional<double> parse_number(const std::string& s);

// One cycle read back. Readings hold their value and age; as_of is rebuilt from the replay's
// own clock.
struct JournalCycle {
  std::int64_t wall_ms = 0;   // unix time in ms
  std::int64_t steady_ms = 0;
  bool started = false;       // an S line came before it
  std::vector<std::string> zones;
  std::vector<std::string> voltage_sources, temperature_sources;  // names, in rank order
  std::optional<int> local_minute_of_day;
  struct Value {
    double value = 0;
    std::int64_t age_ms = 0;
    bool at_least = false;  // written '>' first: a partial sum (pv_w, load_w)
  };
  std::vector<std::optional<Value>> battery_v, battery_temp_c;  // same order as the sources
  std::optional<Value> battery_a, pv_w, load_w;
  std::vector<std::optional<Value>> zone_temp_c;  // same order as `zones`
  std::optional<Value> chargers_limiting;         // missing in minutes written before it was read
  std::optional<Value> generator_running;         // likewise
  // By miner name: what it says it draws, its hottest sensor, and that sensor's limit.
  std::vector<std::pair<std::string, std::optional<Value>>> miner_w, miner_temp_c, miner_temp_limit_c;
  // By miner name: its relay still on after a stop, and whether it ignores its target (1 or 0;
  // missing in minutes written before they were journaled: 0).
  std::vector<std::pair<std::string, std::optional<Value>>> miner_powered, miner_target_ignored;
  // The AC sources' words, by their journal name ("ac_load_w:L1:inverter"; issue 59).
  std::vector<std::pair<std::string, std::optional<Value>>> ac;
  std::vector<JournalOverride> overrides;

  // The snapshot at replay instant `now`, with zone temperatures in the order of `profile_zones`
  // (a zone the journal does not name is missing).
  // Miners' measured draws likewise by name, in the order of `profile_miners`; the AC sources'
  // readings in the order of `profile_ac` (their names).
  rules::Snapshot snapshot(rules::SteadyTime now, const std::vector<std::string>& profile_zones,
                           const std::vector<std::string>& profile_miners = {},
                           const std::vector<std::string>& profile_ac = {}) const;
};

// Appends the cycles of one minute's text (`minute_unix_s` its start). Throws std::runtime_error
// naming the line for text it cannot read.
void read_journal_minute(std::int64_t minute_unix_s, const std::string& text, std::vector<JournalCycle>& out);

}  // namespace shackd
