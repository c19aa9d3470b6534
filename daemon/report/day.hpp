#pragma once
// One local day out of the database, for `shackd report`: the minute telemetry, each load's
// on-periods with the reason at each switch, alarms and overrides, and the thresholds in force.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "daemon/site/profiles.hpp"
#include "daemon/store/sqlite.hpp"

namespace shackd::report {

struct Minute {
  std::int64_t t;  // Unix s, start of the minute
  std::optional<double> battery_v_min, battery_v_avg, battery_v_max, pv_w, load_w;
};

struct Switch {
  std::int64_t t;
  bool on;
  std::string reason;  // the code's stable name: "below_stop_voltage"
  std::string detail;  // the words: "48.10 V below the stop voltage 48.50 V"
};

struct Target {
  std::int64_t t;
  double w;  // the power target its API took
};

// Shadow mode (issue 60): a spell in which shackd's decision differed from what the relay said; or
// a candidate profile's decision from the one in force.
struct ShadowSpan {
  std::int64_t from = 0, to = 0;  // Unix s; `to` 0: still open at the end of the record
  bool would_on = false, actual_on = false;
  std::string reason;  // the decision's, as the spell began
};

struct LoadLine {
  std::string id;           // "miner:Primary S21+"
  std::string name;         // "Primary S21+"
  bool on_at_start = false;  // as the last switch before the day left it
  std::vector<Switch> switches;
  std::vector<Target> targets;  // a miner that follows the surplus: each target it took
  // From a command its relay never confirmed (relay_unconfirmed) to the confirmation or the next
  // command; an end of 0 is still open at the end of the record. Not drawn as the state commanded.
  std::vector<std::pair<std::int64_t, std::int64_t>> unconfirmed;
  std::vector<ShadowSpan> shadow;     // shadow mode's disagreements this day (schema 0016)
  std::vector<ShadowSpan> candidate;  // a candidate profile's differences (schema 0017): would_on the candidate's, actual_on in force
};

struct Mark {
  std::int64_t t;
  std::string kind;  // "alarm", "override", "config", "lifecycle"
  std::string text;
};

struct Threshold {
  std::string label;  // "critical low", "Primary S21+ start"
  double v;
};

struct Day {
  std::string date;  // local, "2026-11-23"
  std::string timezone;
  std::string site_name;
  std::int64_t start = 0, end = 0;  // Unix s: local midnight to midnight (23 or 25 h on a DST day)
  std::vector<Minute> minutes;
  std::vector<LoadLine> loads;
  std::vector<Mark> marks;
  std::vector<Threshold> thresholds;
};

// "2026-11-23" in `timezone`: its bounds, or nullopt with the reason in `why`.
std::optional<std::pair<std::int64_t, std::int64_t>> day_bounds(const std::string& date, const std::string& timezone,
                                                                 std::string& why);
// Today's local date in `timezone` at `unix_now`.
std::string local_date(std::int64_t unix_now, const std::string& timezone);

// Reads `date` (local, in the profiles' timezone) from `db`. Throws db::Error; `why` is set and
// nullopt returned for a date that is not one.
std::optional<Day> read_day(db::Db& db, const StoredProfiles& profiles, const std::string& date, std::string& why);

}  // namespace shackd::report
