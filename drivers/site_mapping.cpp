#include "drivers/site_mapping.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace drivers {

namespace {

bool unit_configured(const DeviceSettings& d, std::string_view reading) {
  const auto dot = reading.find('.');
  if (dot == std::string_view::npos) return false;
  return unit_id(d, reading.substr(0, dot)).has_value();
}

// The enabled devices' offers for `q` whose unit is configured, best rank first, stable.
std::vector<const Offer*> offers(std::span<const DeviceSettings> devices, Quantity q) {
  std::vector<const Offer*> out;
  for (const auto& d : devices) {
    if (!d.enabled) continue;
    for (const auto& o : d.kind->offers) {
      if (o.quantity == q && unit_configured(d, o.reading)) out.push_back(&o);
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Offer* a, const Offer* b) { return a->rank < b->rank; });
  return out;
}

}  // namespace

std::vector<std::string> offered(std::span<const DeviceSettings> devices, Quantity q) {
  std::vector<std::string> out;
  const auto list = offers(devices, q);
  for (const Offer* o : list) {
    if (q == Quantity::load_w && o->rank != list.front()->rank) break;
    out.emplace_back(o->reading);
  }
  return out;
}

SourceSpec source_spec(std::span<const DeviceSettings> devices, Quantity q, const std::string& reading) {
  for (const Offer* o : offers(devices, q)) {
    if (o->reading == reading && !o->name.empty()) return {reading, std::string(o->name), std::string(o->label)};
  }
  return {reading, reading, reading};
}

SnapshotMapping mapping_for(std::span<const DeviceSettings> devices) {
  SnapshotMapping m;
  for (const auto& r : offered(devices, Quantity::battery_v)) m.battery_v.push_back(source_spec(devices, Quantity::battery_v, r));
  for (const auto& r : offered(devices, Quantity::battery_temp_c)) {
    m.battery_temp_c.push_back(source_spec(devices, Quantity::battery_temp_c, r));
  }
  m.battery_a = offered(devices, Quantity::battery_a);
  m.pv_w = offered(devices, Quantity::pv_w);
  m.load_w = offered(devices, Quantity::load_w);
  return m;
}

void add_charger_evidence(std::span<const DeviceSettings> devices, double absorption_v, double float_v,
                          SnapshotMapping& mapping) {
  for (const auto& d : devices) {
    if (!d.enabled) continue;
    const DeviceKind& k = *d.kind;
    for (const auto& word : k.limiting) {
      // Every unit of the word's slot: charger1, charger2, ... numbered as units_of() names them.
      for (std::size_t i = 0; i < k.units.size() && i < d.unit_ids.size(); ++i) {
        if (k.units[i].name != word.unit) continue;
        for (std::size_t n = 1; n <= d.unit_ids[i].size(); ++n) {
          const bool list = k.units[i].count == UnitSlot::Count::list;
          const std::string prefix = std::string(word.unit) + (list ? std::to_string(n) : "");
          const std::string unit_label = fmt::format(fmt::runtime(k.unit_label.empty() ? "{}" : k.unit_label),
                                                     list ? std::to_string(n) : prefix);
          mapping.chargers_limiting.push_back({prefix + "." + std::string(word.field), word.values,
                                               fmt::format(fmt::runtime(word.label), unit_label)});
        }
      }
    }
    if (k.held) {
      SnapshotMapping::HeldAtSetpoint h;
      h.label = k.held->label;
      h.battery_v = k.held->battery_v;
      h.battery_a = k.held->battery_a;
      for (auto pv : k.held->pv_w) h.pv_w.emplace_back(pv);
      h.absorption_v = absorption_v;
      h.float_v = float_v;
      mapping.chargers_held.push_back(std::move(h));
    }
  }
}

}  // namespace drivers
