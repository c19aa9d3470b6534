#include "drivers/device_kind.hpp"

namespace drivers {

DeviceSettings defaults_of(const DeviceKind& kind) {
  DeviceSettings d;
  d.kind = &kind;
  d.name = std::string(kind.key);
  d.timeout = kind.timeout;
  d.pacing = kind.pacing;
  for (const auto& slot : kind.units) {
    d.unit_ids.push_back(slot.count != UnitSlot::Count::list && slot.default_id ? std::vector<int>{*slot.default_id}
                                                                                : std::vector<int>{});
  }
  d.settings.resize(kind.settings.size());
  return d;
}

std::optional<int> setting(const DeviceSettings& d, std::string_view key) {
  for (std::size_t i = 0; i < d.kind->settings.size() && i < d.settings.size(); ++i) {
    if (d.kind->settings[i].key == key) return d.settings[i];
  }
  return std::nullopt;
}

bool kind_named(const DeviceSettings& d) { return d.name == d.kind->key; }

std::string instance_prefix(const DeviceSettings& d, std::string_view slot) {
  if (kind_named(d)) return std::string(slot);
  if (d.kind->units.size() == 1) return d.name;
  // A slot named after its kind ("eg4", "eg4_settings"): the device's name in the kind's place.
  if (slot.starts_with(d.kind->key)) return d.name + std::string(slot.substr(d.kind->key.size()));
  return d.name + "_" + std::string(slot);
}

std::string instance_reading(const DeviceSettings& d, std::string_view kind_reading) {
  const auto dot = kind_reading.find('.');
  if (dot == std::string_view::npos || kind_named(d)) return std::string(kind_reading);
  const std::string_view prefix = kind_reading.substr(0, dot), field = kind_reading.substr(dot);
  for (const auto& slot : d.kind->units) {
    if (!prefix.starts_with(slot.name)) continue;
    const std::string_view number = prefix.substr(slot.name.size());  // "1" of "charger1"
    const bool digits = !number.empty() && number.find_first_not_of("0123456789") == std::string_view::npos;
    if (slot.count == UnitSlot::Count::list ? digits : number.empty()) {
      return instance_prefix(d, slot.name) + std::string(number) + std::string(field);
    }
  }
  return std::string(kind_reading);
}

std::string instance_word(const DeviceSettings& d, std::string_view word) {
  if (kind_named(d)) return std::string(word);
  return d.name + "_" + std::string(word);
}

std::string instance_label(const DeviceSettings& d, std::string_view label) {
  if (kind_named(d)) return std::string(label);
  return std::string(label) + " on " + d.name;
}

std::vector<UnitConfig> units_of(const DeviceSettings& d) {
  std::vector<UnitConfig> out;
  for (std::size_t i = 0; i < d.kind->units.size() && i < d.unit_ids.size(); ++i) {
    const auto& slot = d.kind->units[i];
    const auto& ids = d.unit_ids[i];
    for (std::size_t n = 0; n < ids.size(); ++n) {
      std::string prefix = instance_prefix(d, slot.name);
      if (slot.count == UnitSlot::Count::list) prefix += std::to_string(n + 1);
      out.push_back({ids[n], slot.table, std::move(prefix)});
    }
  }
  return out;
}

std::optional<int> unit_id(const DeviceSettings& d, std::string_view kind_prefix) {
  const std::string prefix = instance_reading(d, std::string(kind_prefix) + ".");
  for (const auto& u : units_of(d)) {
    if (u.prefix + "." == prefix) return u.unit;
  }
  return std::nullopt;
}

DeviceConfig device_config(const DeviceSettings& d) {
  DeviceConfig c;
  c.name = d.name;
  c.transport = d.transport;
  c.timeout = d.timeout;
  c.pacing = d.pacing;
  c.max_block = d.max_block;
  c.units = units_of(d);
  return c;
}

}  // namespace drivers
