#include "drivers/device_kind.hpp"

namespace drivers {

DeviceSettings defaults_of(const DeviceKind& kind) {
  DeviceSettings d;
  d.kind = &kind;
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

std::vector<UnitConfig> units_of(const DeviceSettings& d) {
  std::vector<UnitConfig> out;
  for (std::size_t i = 0; i < d.kind->units.size() && i < d.unit_ids.size(); ++i) {
    const auto& slot = d.kind->units[i];
    const auto& ids = d.unit_ids[i];
    for (std::size_t n = 0; n < ids.size(); ++n) {
      std::string prefix(slot.name);
      if (slot.count == UnitSlot::Count::list) prefix += std::to_string(n + 1);
      out.push_back({ids[n], slot.table, std::move(prefix)});
    }
  }
  return out;
}

std::optional<int> unit_id(const DeviceSettings& d, std::string_view prefix) {
  for (const auto& u : units_of(d)) {
    if (u.prefix == prefix) return u.unit;
  }
  return std::nullopt;
}

DeviceConfig device_config(const DeviceSettings& d) {
  DeviceConfig c;
  c.name = std::string(d.kind->key);
  c.transport = d.transport;
  c.timeout = d.timeout;
  c.pacing = d.pacing;
  c.max_block = d.max_block;
  c.units = units_of(d);
  return c;
}

}  // namespace drivers
