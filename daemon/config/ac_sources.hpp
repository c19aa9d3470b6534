#pragma once
// ac_sources: the AC sources that feed the loads (issue 59), each by an id the profiles' `source`
// and `heater_source` name: its rating, and the readings that say what it carries and whether it
// warns of an overload. None configured: one unrated source ("inverter") whose overload warnings,
// where a device offers them, still shed (rules/ac_budget.cpp).
#include <array>
#include <string>
#include <vector>

#include "rules/profile.hpp"

namespace shackd {

struct StoredProfiles;
struct Config;

struct AcSourceConfig {
  std::string id;
  rules::AcSource rating;  // rating.name is the id
  // Per phase (L1..L3), readings summed: inverters in parallel each carry their share.
  std::array<std::vector<std::string>, 3> load_w;
  // The source's own overload word(s), 0 ok / 1 warning / 2 alarm; the worst counts.
  std::vector<std::string> overload;
  std::array<std::vector<std::string>, 3> overload_phase;
};

// Sets p.rules.ac_sources from the config and each load's feed from its profile's source and
// phase; returns what does not fit, naming the profile, the field, the value and the rule (an
// unknown source, a phase the source lacks, a draw the rules' budget cannot use).
std::vector<std::string> apply_ac_sources(const Config& c, StoredProfiles& p);

// What the AC budget will hold on this site (rules::ac_budget_notes), with each load's feed and
// power target from the config: notes for `check` and the log, never a refusal. Empty where the
// feeds do not fit (apply_ac_sources' errors say why).
std::vector<std::string> ac_source_notes(const Config& c, const StoredProfiles& p);

}  // namespace shackd
