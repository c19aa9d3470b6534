#pragma once
// The `profiles:` section of the YAML config, over the profiles in the database.
//
// What the section says is what exists: the miners and zones it lists are the site's loads, and
// a profile it does not name (or a list it leaves out) is removed. Within a listed profile, a key
// it gives wins and a key it leaves out keeps the database's value. A new miner or zone must give
// the required keys. `enabled: false` keeps a profile without running it.
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "daemon/site/profiles.hpp"

namespace shackd {

// Applies `node` (the value of `profiles:`) onto `profiles`. Returns every problem found, with
// its YAML path and line; `profiles` is only meaningful when none is returned. Validates the
// result with validate_stored().
std::vector<std::string> overlay_profiles(const YAML::Node& node, StoredProfiles& profiles,
                                          const std::string& path = "profiles");

// One field of one profile, set from outside the config file (replay's --set, a setting over
// MQTT): kind "site" (name empty), "miners" or "zones"; the value as written, read as YAML would.
struct ProfileSet {
  std::string kind;
  std::string name;
  std::string field;
  std::string value;
};

// "miners.Primary S21+.start_voltage=50.5" (or zones.<name>.<field>=v, site.<field>=v), as
// `replay --set` and the config's `candidate:` take it: the kind, the profile's name (which may hold
// dots), the field and the value. nullopt with `error` set when it is not of that form (the error
// names the text and the rule; the caller adds where it came from).
std::optional<ProfileSet> parse_profile_set(const std::string& text, std::string& error);

// Applies `sets` onto `profiles` as a `profiles:` section listing every profile with those fields
// would: the same checks, the same messages (under `path`), nothing else changed. Returns every
// problem; `profiles` is unchanged when one is returned.
std::vector<std::string> apply_profile_sets(StoredProfiles& profiles, const std::vector<ProfileSet>& sets,
                                            const std::string& path);

// Whether the config's `profiles:` section gives `field` of `kind` ("miner", "zone") `name`
// itself: then it is the config's, and a reload or restart puts it back. Its place, or nullopt.
std::optional<std::string> profile_key_given(const YAML::Node& section, const std::string& kind,
                                             const std::string& name, const std::string& field);

// The profiles as the daemon would run them: `stored` (the database's) with the config's
// `profiles:` section, if any, over them. nullopt, with every problem in `errors`, when the
// section is refused. For the commands that read what the daemon decides on (replay, report).
std::optional<StoredProfiles> profiles_in_force(StoredProfiles stored, const std::optional<YAML::Node>& section,
                                                std::vector<std::string>& errors);

// Where the section gives `field` of the profile `name` in its `kind`s list ("miner", "zone"):
// "profiles.miners[1].relay_id (line 40:17)", or the profile's own line when it lacks the key;
// nullopt when the section does not list that profile (it is the database's).
std::optional<std::string> profile_key_where(const YAML::Node& section, const std::string& path,
                                             const std::string& kind, const std::string& name,
                                             const std::string& field);

// YAML that can be pasted back into the config: a `profiles:` section with every field.
std::string export_profiles_yaml(const StoredProfiles& profiles, const std::string& header_comment = "");

}  // namespace shackd
