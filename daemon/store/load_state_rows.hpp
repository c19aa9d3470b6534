#pragma once
// The rules' per-load state and its row in load_state. Rows hold wall-clock times (a reboot
// resets the monotonic clock); the rules hold monotonic ones. Converting at both ends keeps
// min on/off, max starts and overrides in force across a restart, so no relay flaps.
#include <cstdint>
#include <optional>
#include <string>

#include <map>
#include <vector>

#include "daemon/site/loads.hpp"
#include "daemon/store/runtime_store.hpp"
#include "rules/state.hpp"

namespace shackd {

std::optional<std::int64_t> parse_iso_utc(const std::string& s);

// A wall time in the past, as a monotonic instant: now minus its age. A time in the future (the
// wall clock jumped back) counts as now.
rules::SteadyTime to_steady(std::int64_t wall_s, rules::SteadyTime steady_now, std::int64_t wall_now_s);
std::int64_t to_wall(rules::SteadyTime t, rules::SteadyTime steady_now, std::int64_t wall_now_s);

rules::LoadState restore_load(const LoadStateRow& row, rules::SteadyTime steady_now, std::int64_t wall_now_s);

// The row for `st`. Times and counters are recomputed only at a transition, or for the override
// when `override_changed`; otherwise the previous row is kept as it is, so an unchanged load
// writes nothing (a monotonic instant turned into wall seconds can wobble by one).
// What a starting shackd decides from: a fresh state (no dwell timers, no latches, no lockout)
// sized for `profiles`, with each load's row restored and the site's last start the latest of
// theirs. Shared by the daemon and `replay`, so a replay restarts where the daemon did.
rules::State restored_state(const rules::Profiles& profiles, const std::vector<LoadRef>& loads,
                            const std::map<std::string, LoadStateRow>& rows, rules::SteadyTime steady_now,
                            std::int64_t wall_now_s);

// The daemon's start: restored_state, each load's restore said in the log. After a start in the
// safe state (daemon/loop/safe_start.hpp), every relay was commanded OFF at `held_off_since`
// before the rows were read: a load stored ON is OFF since then, so its minimum off time applies
// before it starts again (an ASIC's supply wants minutes between power cycles,
// docs/solar-shack.md). Its starts, counters and override are the stored ones.
rules::State restored_at_start(const rules::Profiles& profiles, const std::vector<LoadRef>& loads,
                               const std::map<std::string, LoadStateRow>& rows,
                               std::optional<rules::SteadyTime> held_off_since, rules::SteadyTime steady_now,
                               std::int64_t wall_now_s);

LoadStateRow persist_load(const std::string& key, const rules::LoadState& st, const LoadStateRow* previous,
                          rules::SteadyTime steady_now, std::int64_t wall_now_s, bool override_changed);

}  // namespace shackd
