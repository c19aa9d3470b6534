#pragma once
// Table shadow_disagreements (schema 0016, issue 60): in shadow mode, each spell in which shackd's
// decision for a load differed from what its relay reported. Table candidate_differences (0017):
// each spell in which a candidate profile's decision differed from the one in force. One row a
// spell, written when it opens (end_ms NULL) and again when it closes: a few writes a day, never
// one a cycle.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "daemon/store/sqlite.hpp"

namespace shackd {

struct ShadowRow {
  std::string load_id;
  std::int64_t start_ms = 0;              // unix ms of the first cycle that disagreed
  std::optional<std::int64_t> end_ms;     // of the cycle that ended it; nullopt: still open
  bool would_on = false;                  // shackd's decision
  bool actual_on = false;                 // what the relay reported
  int reason_code = 0;                    // rules::ReasonCode
  std::string reason;                     // for people, as at the start
  std::int64_t cycles = 1;                // cycles that disagreed
  bool candidate = false;                 // candidate_differences: would_on is the candidate's, actual_on the in force
  std::string candidate_sets;             // a candidate's: its changes, as configured
  bool operator==(const ShadowRow&) const = default;
};

// A spell's key in a batch: its table, its load and its start.
struct SpellKey {
  bool candidate = false;
  std::string load_id;
  std::int64_t start_ms = 0;
  auto operator<=>(const SpellKey&) const = default;
};
inline SpellKey spell_key(const ShadowRow& r) { return {r.candidate, r.load_id, r.start_ms}; }

// Inserts the row into its table, or updates its end and count (the same load and start). Throws db::Error.
void save_shadow_row(db::Db& db, const ShadowRow& row);
// Drops the spells of both tables that ended before `before_ms` (retention). Throws db::Error.
void prune_shadow_rows(db::Db& db, std::int64_t before_ms);
// The rows still open or ended at or after `since_ms`, by start then load, at most `limit`: for
// `status`, tests and reports. `candidate`: candidate_differences' rows.
std::vector<ShadowRow> load_shadow_rows(db::Db& db, std::int64_t since_ms = 0, int limit = 100000, bool candidate = false);

}  // namespace shackd
