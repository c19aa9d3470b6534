#include "daemon/cli/candidate_apply.hpp"

#include <fmt/format.h>

#include <vector>

#include "daemon/cli/cli_args.hpp"
#include "daemon/config/config.hpp"
#include "daemon/config/profiles_yaml.hpp"
#include "daemon/store/profile_store.hpp"

namespace shackd {

namespace {

// Where the config's profiles: section gives the field a change sets, or nothing.
std::optional<std::string> given_by_file(const std::optional<YAML::Node>& section, const ProfileSet& set) {
  if (!section || !section->IsMap()) return std::nullopt;
  if (set.kind == "site") {
    const YAML::Node site = (*section)["site"];
    if (site.IsMap() && site[set.field].IsDefined()) return yaml::where("profiles.site." + set.field, site[set.field]);
    return std::nullopt;
  }
  return profile_key_given(*section, set.kind == "miners" ? "miner" : "zone", set.name, set.field);
}

}  // namespace

int apply_candidate(db::Db& db, const std::string& config_file) {
  const ConfigResult c = load_config(config_file);
  if (!c.config) {
    for (const auto& e : c.errors) fmt::print(stderr, "{}\n", e);
    return kExConfig;
  }
  const auto& sets = c.config->candidate;
  if (sets.empty()) {
    fmt::print("{} has no loop.candidate: nothing to apply\n", config_file);
    return kExOk;
  }
  std::vector<std::string> problems;
  const auto in_force = profiles_in_force(load_profiles(db), c.config->profiles, problems);
  if (!in_force) {
    for (const auto& e : problems) fmt::print(stderr, "{}\n", e);
    return kExConfig;
  }
  std::vector<ProfileSet> parsed;
  for (const auto& s : sets) {
    std::string error;
    const auto p = parse_profile_set(s, error);
    if (!p) {
      problems.push_back("loop.candidate: " + error);
      continue;
    }
    if (const auto at = given_by_file(c.config->profiles, *p)) {
      problems.push_back(fmt::format("loop.candidate: '{}': the config's profiles: section gives it itself ({}): change it "
                                     "there, a restart would put the file's value back",
                                     s, *at));
    }
    parsed.push_back(*p);
  }
  StoredProfiles next = *in_force;
  if (problems.empty()) problems = apply_profile_sets(next, parsed, "loop.candidate");
  if (!problems.empty()) {
    fmt::print(stderr, "shackd profiles apply --candidate: refused; the profiles in force are unchanged:\n  {}\n",
               fmt::join(problems, "\n  "));
    return kExDataErr;
  }
  const std::string what = fmt::format("{}", fmt::join(sets, ", "));
  save_profile_change(db, next, *in_force, "candidate", "the candidate from " + config_file + ": " + what);
  fmt::print("{}: the candidate is now the profiles in force: {}\n"
             "Remove loop.candidate from it and reload shackd (sudo systemctl reload shackd): until then the running\n"
             "shackd decides with the profiles it had, beside the same candidate.\n",
             config_file, what);
  return kExOk;
}

}  // namespace shackd
