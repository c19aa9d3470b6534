#pragma once
// Profile settings from outside the config file (issue 17, opt-in with mqtt.allow_settings): each
// miner's fields the schema marks settable (daemon/site/profile_fields.cpp: over_mqtt()), set
// over MQTT on <prefix>/load/<id>/<field>/set (Home Assistant's number
// entities publish there). One owner per value: a value the config's
// `profiles:` section gives is the file's (a reload or restart would put it back), so it is not
// offered and a set is refused, naming its line; every other one is the database's, and a set is
// checked exactly as the same value in the file would be, stored, and recorded.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "daemon/site/loads.hpp"
#include "daemon/site/refusal.hpp"

namespace shackd {

struct OfferedSetting {
  std::string load_id;    // relay id: the topic's <id>
  std::string load_name;  // the miner's name
  std::string field;      // "start_voltage"
  std::string label;      // "start voltage"
  double min_v = 0, max_v = 0;  // the range a set can take at all (a voltage: the site's plausible voltages)
  std::string unit;             // the field's: "V"
};

// The settable fields of a miner, in the schema's order.
const std::vector<std::string>& settable_fields();

// What is offered: each miner's settable fields the config's section does not give. Each field
// the section gives is added to `kept_by_config` as "Primary S21+ start_voltage (profiles.miners[0]
// .start_voltage, line 40:7)", to be said at start.
std::vector<OfferedSetting> offered_settings(const StoredProfiles& p, const std::vector<LoadRef>& loads,
                                             const std::optional<YAML::Node>& section,
                                             std::vector<std::string>* kept_by_config = nullptr);

// "<prefix>/load/<id>/<field>/set" -> (id, field), for a settable field; else nullopt.
std::optional<std::pair<std::string, std::string>> setting_topic(const std::string& prefix, const std::string& topic);

// A set taken: the profiles to run and what changed ("miner 'Primary S21+': start_voltage 50.00
// -> 50.50").
struct SettingChange {
  StoredProfiles next;
  std::string change;
};

// Checks a payload for load `id`'s `field` against the profiles in force and the config's section:
// the change, or why not (the refusal's value: the payload cleaned, cut and trimmed; its rule: the
// check's own words, or the config file's line that owns the field).
Refused<SettingChange> apply_setting(const StoredProfiles& in_force, const std::vector<LoadRef>& loads,
                            const std::optional<YAML::Node>& section, const std::string& id,
                            const std::string& field, const std::string& payload);

}  // namespace shackd
