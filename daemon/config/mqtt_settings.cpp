#include "daemon/config/mqtt_settings.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "daemon/config/profiles_yaml.hpp"
#include "daemon/site/profile_schema.hpp"
#include "drivers/text/utf8.hpp"
#include "rules/format.hpp"

namespace shackd {

namespace {

// The miner's value of `field`, as the owner writes it ("50.0").
std::string field_text(const StoredProfiles& p, std::size_t index, const std::string& field) {
  const auto* f = schema::miner().find(field);
  if (!f) return "?";
  const schema::Value v = f->get(p, index);
  if (const auto* d = std::get_if<double>(&v)) return rules::format_fixed(*d, 2);
  return schema::yaml_text(*f, v);
}

}  // namespace

// The miner schema's fields marked settable (daemon/site/profile_fields.cpp: over_mqtt()).
const std::vector<std::string>& settable_fields() {
  static const std::vector<std::string> fields = [] {
    std::vector<std::string> out;
    for (const auto& f : schema::miner().fields) {
      if (f.settable) out.emplace_back(f.key);
    }
    return out;
  }();
  return fields;
}

std::vector<OfferedSetting> offered_settings(const StoredProfiles& p, const std::vector<LoadRef>& loads,
                                             const std::optional<YAML::Node>& section,
                                             std::vector<std::string>* kept_by_config) {
  std::vector<OfferedSetting> out;
  for (const auto& l : loads) {
    if (l.kind != LoadRef::Kind::miner) continue;
    for (const auto& field : settable_fields()) {
      if (const auto at = section ? profile_key_given(*section, "miner", l.name, field) : std::nullopt) {
        if (kept_by_config) kept_by_config->push_back(fmt::format("{} {} ({})", l.name, field, *at));
        continue;
      }
      std::string label = field;
      std::replace(label.begin(), label.end(), '_', ' ');
      // A voltage can take the bank's plausible range at most; another value its field's range.
      const auto& f = *schema::miner().find(field);
      const bool volts = f.unit == "V";
      out.push_back({l.id, l.name, field, label, volts ? p.rules.site.plausible_min_v : f.range.min.value_or(0),
                     volts ? p.rules.site.plausible_max_v : f.range.max.value_or(1e6), std::string(f.unit)});
    }
  }
  return out;
}

std::optional<std::pair<std::string, std::string>> setting_topic(const std::string& prefix, const std::string& topic) {
  const std::string head = prefix + "/load/", tail = "/set";
  if (topic.size() <= head.size() + tail.size() || topic.rfind(head, 0) != 0 || !topic.ends_with(tail)) {
    return std::nullopt;
  }
  const std::string middle = topic.substr(head.size(), topic.size() - head.size() - tail.size());
  const auto slash = middle.find('/');
  if (slash == std::string::npos || middle.find('/', slash + 1) != std::string::npos) return std::nullopt;
  std::string id = middle.substr(0, slash), field = middle.substr(slash + 1);
  const auto& fields = settable_fields();
  if (id.empty() || std::find(fields.begin(), fields.end(), field) == fields.end()) return std::nullopt;
  return std::pair{std::move(id), std::move(field)};
}

Refused<SettingChange> apply_setting(const StoredProfiles& in_force, const std::vector<LoadRef>& loads,
                                     const std::optional<YAML::Node>& section, const std::string& id,
                                     const std::string& field, const std::string& payload) {
  // The payload as a YAML scalar: a number, nothing else (the reader refuses "52,5", "abc", "").
  std::string value = drivers::text::clean_utf8(payload, 32);
  value.erase(0, value.find_first_not_of(" \t\r\n"));
  value.erase(value.find_last_not_of(" \t\r\n") + 1);
  const auto load = std::find_if(loads.begin(), loads.end(), [&](const LoadRef& l) { return l.id == id; });
  // Ids are matched against the configured loads: nothing can be injected through a topic.
  if (load == loads.end() || load->kind != LoadRef::Kind::miner) {
    const std::string shown = drivers::text::clean_utf8(id, 40);
    return Refusal{.load_id = "", .field = "load", .value = shown, .rule = "a miner's id or name",
                   .said = fmt::format("no miner '{}'", shown)};
  }
  if (const auto at = section ? profile_key_given(*section, "miner", load->name, field) : std::nullopt) {
    return Refusal{.load_id = load->id, .field = field, .value = value,
                   .rule = fmt::format("set in the config file ({})", *at),
                   .said = fmt::format("{} {} is set in the config file ({}): remove it there to set it over MQTT",
                                       load->name, field, *at)};
  }
  StoredProfiles next = in_force;
  const auto problems = apply_profile_sets(next, {{"miners", load->name, field, value}}, "mqtt");
  if (!problems.empty()) {
    // The check's words without the path of the section built for it ("mqtt.miners[0]...: ").
    std::string why = problems.front();
    if (why.rfind("mqtt.", 0) == 0 && why.find(": ") != std::string::npos) why = why.substr(why.find(": ") + 2);
    std::string said = fmt::format("{} {} = '{}': {}", load->name, field, value, why);
    return Refusal{.load_id = load->id, .field = field, .value = value, .rule = std::move(why), .said = std::move(said)};
  }
  std::string change = fmt::format("miner '{}': {} {} -> {}", load->name, field, field_text(in_force, load->index, field),
                                   field_text(next, load->index, field));
  return SettingChange{std::move(next), std::move(change)};
}

}  // namespace shackd
