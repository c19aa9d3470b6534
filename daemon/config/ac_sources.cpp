// The config's AC sources into the rules' profiles, and each load's feed by its source's id
// (daemon/config/ac_sources.hpp).
#include "daemon/config/ac_sources.hpp"

#include <fmt/format.h>

#include "daemon/config/config.hpp"
#include "daemon/config/miners_yaml.hpp"
#include "daemon/site/profiles.hpp"
#include "rules/validate.hpp"

namespace shackd {

namespace {

// The index of the source `id` names ("": the first); nullopt and a message when none.
std::optional<std::size_t> source_index(const Config& c, const std::string& who, const std::string& field,
                                        const std::string& id, std::vector<std::string>& errors) {
  if (id.empty()) return 0;
  for (std::size_t k = 0; k < c.ac_sources.size(); ++k) {
    if (c.ac_sources[k].id == id) return k;
  }
  if (c.ac_sources.empty()) {
    errors.push_back(fmt::format("{}: {} '{}': no ac_sources: are configured (leave {} empty for the one inverter)",
                                 who, field, id, field));
  } else {
    std::vector<std::string> ids;
    for (const auto& a : c.ac_sources) ids.push_back(a.id);
    errors.push_back(
        fmt::format("{}: {} '{}' is not defined under ac_sources: (one of {})", who, field, id, fmt::join(ids, ", ")));
  }
  return std::nullopt;
}

// The profiles' phase is 1-based (L1); the rules' 0-based. Its range (1 to 3) is the schema's.
std::size_t phase_index(int phase) { return phase >= 1 ? static_cast<std::size_t>(phase - 1) : 0; }

}  // namespace

std::vector<std::string> apply_ac_sources(const Config& c, StoredProfiles& p) {
  std::vector<std::string> errors;
  p.rules.ac_sources.clear();
  for (const auto& a : c.ac_sources) p.rules.ac_sources.push_back(a.rating);
  for (std::size_t i = 0; i < p.rules.miners.size() && i < p.miners.size(); ++i) {
    const std::string who = fmt::format("miner '{}'", p.rules.miners[i].name);
    const auto k = source_index(c, who, "source", p.miners[i].ac_source, errors);
    p.rules.miners[i].feed = {k.value_or(0), phase_index(p.miners[i].ac_phase)};
  }
  for (std::size_t i = 0; i < p.rules.zones.size() && i < p.zones.size(); ++i) {
    const std::string who = fmt::format("zone '{}'", p.rules.zones[i].name);
    const auto k = source_index(c, who, "heater_source", p.zones[i].heater_ac_source, errors);
    p.rules.zones[i].heater_feed = {k.value_or(0), phase_index(p.zones[i].heater_ac_phase)};
  }
  // The rules' own checks of sources and feeds (a phase the source lacks, a draw it cannot take).
  if (errors.empty()) {
    for (auto& e : rules::validate(p.rules)) errors.push_back(std::move(e));
  }
  return errors;
}

std::vector<std::string> ac_source_notes(const Config& c, const StoredProfiles& p) {
  StoredProfiles fed = p;
  apply_miner_targets(c.miners, fed);  // a miner with a power target starts at its max_w
  if (!apply_ac_sources(c, fed).empty()) return {};
  return rules::ac_budget_notes(fed.rules);
}

}  // namespace shackd
