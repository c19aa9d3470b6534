#pragma once
// Table ac_overload (schema 0018, issue 59): each AC source's phase's last overload, so that the
// overload hold (AcSource::overload_hold: no start after an overload) survives a restart. An
// inverter that tripped can take the Pi's power with it, and a restarted daemon that forgot the
// overload started every load at once and tripped it again.
//
// The rules hold the last overloaded cycle as a monotonic instant (AcPhaseState::overload_at);
// the row holds it as wall seconds, only to carry it across the restart, as load_state's `since`
// does (daemon/store/load_state_rows.hpp). A row is written when an overload begins (ongoing) and
// once it has been over for kAcOverloadSettle (its last overloaded cycle): a warning that comes
// and goes every few seconds writes nothing while it does, and a sustained one writes once.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "daemon/store/sqlite.hpp"
#include "rules/profile.hpp"
#include "rules/state.hpp"
#include "rules/time.hpp"

namespace shackd {

struct AcOverloadRow {
  std::int64_t last_s = 0;  // unix s: the last overloaded cycle; while ongoing, the first
  bool ongoing = false;     // overloaded at the write (or over for less than kAcOverloadSettle)
  bool operator==(const AcOverloadRow&) const = default;
};
// By (source id, phase 1..3).
using AcOverloadKey = std::pair<std::string, int>;
using AcOverloadRows = std::map<AcOverloadKey, AcOverloadRow>;

// How long a phase stays clear before the end of its overload is written: a stop within it finds
// the row ongoing and holds the whole overload_hold (never less than the run would have held).
inline constexpr rules::Duration kAcOverloadSettle = std::chrono::seconds(10);

AcOverloadRows load_ac_overloads(db::Db& db);
// Throws db::Error.
void save_ac_overload(db::Db& db, const AcOverloadKey& key, const AcOverloadRow& row, std::int64_t unix_now);

// The rows this cycle's state changes, against `written` (what was handed over before, updated
// here): a phase overloaded this cycle whose row is not ongoing; an ongoing row whose phase has
// been clear for kAcOverloadSettle (or whose hold ran out). Sources with no overload_hold write
// nothing.
AcOverloadRows ac_overload_changes(const rules::Profiles& profiles, const rules::SiteState& site, AcOverloadRows& written,
                                   rules::SteadyTime steady_now, std::int64_t wall_now_s);

// The start: each configured source's phase with a row seeds its AcPhaseState::overload_at so that
// the hold runs out when it would have without the restart: `last_s`'s age ago (an ongoing row:
// now, the whole hold). A row in the future (the wall clock went back) counts as now, and one
// older than the hold (or a clock gone far forward) holds nothing: never more than one
// overload_hold from the start. Returns the log lines, one a phase held ("inverter L1: overloaded
// 40 s before this start; starts held 260 s more").
std::vector<std::string> restore_ac_overloads(const rules::Profiles& profiles, const AcOverloadRows& rows,
                                              rules::SiteState& site, rules::SteadyTime steady_now,
                                              std::int64_t wall_now_s);

}  // namespace shackd
