#include "daemon/config/profiles_yaml.hpp"

#include <fmt/format.h>

#include <map>
#include <regex>

#include "daemon/config/yaml_read.hpp"
#include "daemon/site/profile_schema.hpp"

namespace shackd {

namespace {

using schema::Entity;
using schema::Field;
using schema::Row;
using schema::Storage;
using schema::Type;
using schema::Value;

// Overwrites the row's fields given in `node`. Returns the keys set.
std::vector<std::string> overlay_row(const YAML::Node& node, const std::string& path, const Entity& entity, Row& row,
                                     yaml::Errors& errors) {
  std::vector<std::string> given;
  for (const auto& [key, value] : yaml::entries(node, path, entity.keys(), errors)) {
    const std::size_t i = entity.index(key);
    const Field& f = entity.fields[i];
    const std::string key_path = path + "." + key;
    given.push_back(key);
    if (yaml::is_null(value)) {
      if (f.nullable) {
        row[i] = Value();
      } else {
        errors.add(key_path, value, "must have a value (it cannot be null)");
      }
      continue;
    }
    if (f.type == Type::boolean) {
      if (auto v = yaml::boolean(value, key_path, errors)) row[i] = std::int64_t{*v ? 1 : 0};
    } else if (schema::storage_of(f.type) == Storage::real) {
      if (auto v = yaml::real(value, key_path, errors)) row[i] = *v;
    } else if (schema::storage_of(f.type) == Storage::integer) {
      if (auto v = yaml::integer(value, key_path, errors)) row[i] = *v;
    } else if (auto v = yaml::text(value, key_path, errors)) {
      row[i] = *v;
    }
  }
  return given;
}

// Overlays a list of named profiles (miners or zones) onto the rows from the database.
void overlay_list(const YAML::Node& list, const std::string& path, const Entity& entity, std::vector<Row>& rows_in_order,
                  yaml::Errors& errors) {
  const std::string kind(entity.kind);
  if (!list.IsSequence()) {
    errors.add(path, list, fmt::format("expected a list of {}s (- name: ...)", kind));
    return;
  }
  const std::size_t name_col = entity.index("name");
  std::map<std::string, std::size_t> by_name;
  for (std::size_t i = 0; i < rows_in_order.size(); ++i) {
    by_name[std::get<std::string>(rows_in_order[i][name_col])] = i;
  }
  std::map<std::string, std::size_t> in_yaml;
  for (std::size_t k = 0; k < list.size(); ++k) {
    const YAML::Node item = list[k];
    const std::string item_path = fmt::format("{}[{}]", path, k);
    if (!item.IsMap() || !item["name"] || !item["name"].IsScalar() || item["name"].Scalar().empty()) {
      errors.add(item_path, item, fmt::format("each {} needs a name", kind));
      continue;
    }
    const std::string name = item["name"].Scalar();
    if (const auto dup = in_yaml.find(name); dup != in_yaml.end()) {
      errors.add(item_path, item, fmt::format("{} '{}' is listed twice (also {}[{}])", kind, name, path, dup->second));
      continue;
    }
    in_yaml[name] = k;
    const auto existing = by_name.find(name);
    Row row = existing != by_name.end() ? rows_in_order[existing->second] : schema::new_row(entity);
    const auto given = overlay_row(item, item_path, entity, row, errors);
    if (existing == by_name.end()) {
      std::vector<std::string> missing;
      for (const auto& f : entity.fields) {
        if (f.required && std::find(given.begin(), given.end(), f.key) == given.end()) missing.emplace_back(f.key);
      }
      if (!missing.empty()) {
        // `name: Dump Load S19 #1` reads as "Dump Load S19": in YAML " #" starts a comment.
        std::string hint;
        for (const auto& [known, index] : by_name) {
          if (known.rfind(name + " #", 0) == 0) {
            hint = fmt::format(" (did you mean '{}'? In YAML \" #\" starts a comment: put the name in quotes)", known);
          }
        }
        errors.add(item_path, item,
                   fmt::format("{} '{}' is new, so it needs {}{}", kind, name, fmt::join(missing, ", "), hint));
        continue;
      }
      by_name[name] = rows_in_order.size();
      rows_in_order.push_back(std::move(row));
    } else {
      rows_in_order[existing->second] = std::move(row);
    }
  }
  if (!errors.empty()) return;
  // The list is the whole set: a profile it no longer names is removed (shown by `check`,
  // backed up and recorded as an event when applied).
  std::vector<Row> kept;
  for (auto& row : rows_in_order) {
    if (in_yaml.count(std::get<std::string>(row[name_col]))) kept.push_back(std::move(row));
  }
  rows_in_order = std::move(kept);
}

void emit_row(std::string& out, const Entity& entity, const Row& row, const std::string& indent, bool list_item) {
  for (std::size_t i = 0; i < entity.fields.size(); ++i) {
    const std::string lead = list_item && i == 0 ? indent.substr(0, indent.size() - 2) + "- " : indent;
    out += fmt::format("{}{}: {}\n", lead, entity.fields[i].key, schema::yaml_text(entity.fields[i], row[i]));
  }
}

// "miner 'X': stop_voltage 55.0 must be below ..." -> prefixed with the YAML path and line of
// that key where the section gives it (or of the profile, or of the site: map), so that a rule
// error is located like a type error.
std::string locate_problem(const YAML::Node& node, const std::string& path, const std::string& problem) {
  static const std::regex shape(R"(^(miner|zone) '(.*?)': ([a-z0-9_]+)|^site: ([a-z0-9_]+))");
  std::smatch m;
  if (!node.IsMap() || !std::regex_search(problem, m, shape)) return problem;
  if (m[4].matched) {
    const YAML::Node site = node["site"];
    if (!site.IsMap()) return problem;
    const YAML::Node value = site[m[4].str()];
    return (value.IsDefined() ? yaml::where(path + ".site." + m[4].str(), value) : yaml::where(path + ".site", site)) +
           ": " + problem;
  }
  const auto at = profile_key_where(node, path, m[1].str(), m[2].str(), m[3].str());
  return at ? *at + ": " + problem : problem;
}

}  // namespace

std::optional<StoredProfiles> profiles_in_force(StoredProfiles stored, const std::optional<YAML::Node>& section,
                                                std::vector<std::string>& errors) {
  if (section) errors = overlay_profiles(*section, stored, "profiles");
  if (!errors.empty()) return std::nullopt;
  return stored;
}

std::vector<std::string> overlay_profiles(const YAML::Node& node, StoredProfiles& profiles, const std::string& path) {
  yaml::Errors errors;
  Row site = schema::row_of(schema::site(), profiles);
  std::vector<Row> miners, zones;
  for (std::size_t i = 0; i < profiles.rules.miners.size(); ++i) miners.push_back(schema::row_of(schema::miner(), profiles, i));
  for (std::size_t i = 0; i < profiles.rules.zones.size(); ++i) zones.push_back(schema::row_of(schema::zone(), profiles, i));

  // What the section says is what exists: a list it leaves out is an empty list.
  bool has_miners = false, has_zones = false;
  const auto list = [&](const YAML::Node& value, const Entity& entity, std::vector<Row>& out, bool& given) {
    given = !yaml::is_null(value);  // `miners:` with nothing after it is an empty list too
    if (given) overlay_list(value, fmt::format("{}.{}s", path, entity.kind), entity, out, errors);
  };
  for (const auto& [key, value] : yaml::entries(node, path, {"site", "miners", "zones"}, errors)) {
    if (key == "site") overlay_row(value, path + ".site", schema::site(), site, errors);
    if (key == "miners") list(value, schema::miner(), miners, has_miners);
    if (key == "zones") list(value, schema::zone(), zones, has_zones);
  }
  if (!has_miners) miners.clear();
  if (!has_zones) zones.clear();
  if (!errors.empty()) return errors.list();

  StoredProfiles next;
  std::vector<std::string> problems;
  schema::from_row(schema::site(), site, next, 0, problems);
  for (std::size_t i = 0; i < miners.size(); ++i) {
    next.rules.miners.emplace_back();
    next.miners.emplace_back();
    schema::from_row(schema::miner(), miners[i], next, i, problems);
  }
  for (std::size_t i = 0; i < zones.size(); ++i) {
    next.rules.zones.emplace_back();
    next.zones.emplace_back();
    schema::from_row(schema::zone(), zones[i], next, i, problems);
  }
  if (problems.empty()) problems = validate_stored(next);
  for (auto& problem : problems) problem = locate_problem(node, path, problem);
  if (problems.empty()) profiles = std::move(next);
  return problems;
}

std::vector<std::string> apply_profile_sets(StoredProfiles& profiles, const std::vector<ProfileSet>& sets,
                                            const std::string& path) {
  YAML::Node section(YAML::NodeType::Map);
  std::vector<std::string> problems;
  // Every profile listed, by name and in its order: what the section lists is what exists.
  using Fields = std::vector<std::pair<std::string, std::string>>;
  std::map<std::string, std::vector<std::pair<std::string, Fields>>> items{{"miners", {}}, {"zones", {}}};
  for (const auto& m : profiles.rules.miners) items["miners"].push_back({m.name, {}});
  for (const auto& z : profiles.rules.zones) items["zones"].push_back({z.name, {}});
  for (const auto& set : sets) {
    if (set.kind == "site") {
      section["site"][set.field] = set.value;
      continue;
    }
    auto* item = static_cast<std::pair<std::string, Fields>*>(nullptr);
    if (const auto kind = items.find(set.kind); kind != items.end()) {
      for (auto& named : kind->second) item = named.first == set.name ? &named : item;
    }
    if (!item) {
      problems.push_back(fmt::format("{}: there is no {} profile '{}'", path, set.kind == "zones" ? "zone" : "miner",
                                     set.name));
      continue;
    }
    item->second.emplace_back(set.field, set.value);
  }
  if (!problems.empty()) return problems;
  for (const auto& [kind, named] : items) {
    YAML::Node list(YAML::NodeType::Sequence);
    for (const auto& [name, fields] : named) {
      YAML::Node entry(YAML::NodeType::Map);
      entry["name"] = name;
      for (const auto& [field, value] : fields) entry[field] = value;
      list.push_back(entry);
    }
    section[kind] = list;
  }
  StoredProfiles next = profiles;
  problems = overlay_profiles(section, next, path);
  if (problems.empty()) profiles = std::move(next);
  return problems;
}

namespace {
// The section's entry for profile `name` in its `kind`s list, with its index; nullopt when the
// section does not list it.
std::optional<std::pair<std::size_t, YAML::Node>> listed_profile(const YAML::Node& section, const std::string& kind,
                                                                const std::string& name) {
  if (!section.IsDefined() || !section.IsMap()) return std::nullopt;
  const YAML::Node list = section[kind + "s"];
  if (!list.IsDefined() || !list.IsSequence()) return std::nullopt;
  for (std::size_t k = 0; k < list.size(); ++k) {
    const YAML::Node item = list[k];
    if (item.IsMap() && item["name"] && item["name"].IsScalar() && item["name"].Scalar() == name) return std::pair{k, item};
  }
  return std::nullopt;
}
}  // namespace

std::optional<std::string> profile_key_given(const YAML::Node& section, const std::string& kind,
                                             const std::string& name, const std::string& field) {
  const auto listed = listed_profile(section, kind, name);
  if (!listed || !listed->second[field].IsDefined()) return std::nullopt;
  return yaml::where(fmt::format("profiles.{}s[{}].{}", kind, listed->first, field), listed->second[field]);
}

std::optional<std::string> profile_key_where(const YAML::Node& section, const std::string& path,
                                             const std::string& kind, const std::string& name,
                                             const std::string& field) {
  const auto listed = listed_profile(section, kind, name);
  if (!listed) return std::nullopt;
  const std::string item_path = fmt::format("{}.{}s[{}]", path, kind, listed->first);
  const YAML::Node value = listed->second[field];
  return value.IsDefined() ? yaml::where(item_path + "." + field, value) : yaml::where(item_path, listed->second);
}

std::string export_profiles_yaml(const StoredProfiles& p, const std::string& header_comment) {
  std::string out;
  if (!header_comment.empty()) out += "# " + header_comment + "\n";
  out += "profiles:\n  site:\n";
  emit_row(out, schema::site(), schema::row_of(schema::site(), p), "    ", false);
  out += p.rules.miners.empty() ? "  miners: []\n" : "  miners:\n";
  for (std::size_t i = 0; i < p.rules.miners.size(); ++i) {
    emit_row(out, schema::miner(), schema::row_of(schema::miner(), p, i), "    ", true);
  }
  out += p.rules.zones.empty() ? "  zones: []\n" : "  zones:\n";
  for (std::size_t i = 0; i < p.rules.zones.size(); ++i) {
    emit_row(out, schema::zone(), schema::row_of(schema::zone(), p, i), "    ", true);
  }
  return out;
}

std::optional<ProfileSet> parse_profile_set(const std::string& text, std::string& error) {
  const auto eq = text.find('=');
  if (eq == std::string::npos) {
    error = "'" + text + "': expected key=value";
    return std::nullopt;
  }
  const std::string key = text.substr(0, eq), value = text.substr(eq + 1);
  if (key.rfind("site.", 0) == 0 && key.size() > 5) return ProfileSet{"site", "", key.substr(5), value};
  const auto dot1 = key.find('.'), dot2 = key.rfind('.');
  const std::string kind = key.substr(0, dot1);
  if ((kind != "miners" && kind != "zones") || dot1 == std::string::npos || dot1 == dot2 || dot2 + 1 == key.size()) {
    error = "'" + text + "': keys are site.<field>, miners.<name>.<field> or zones.<name>.<field>";
    return std::nullopt;
  }
  return ProfileSet{kind, key.substr(dot1 + 1, dot2 - dot1 - 1), key.substr(dot2 + 1), value};
}

}  // namespace shackd
