#include "drivers/site_mapping.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace drivers {

namespace {

// An offer as one device makes it: its reading, source name and label as the device names them.
struct DeviceOffer {
  std::string reading, name, label;
  int rank = 0;
  bool share = false;
};

// The enabled devices' offers for `q` whose unit is configured, best rank first, stable (equal
// ranks in the devices' order: two inverters in parallel, each its own panels).
std::vector<DeviceOffer> offers(std::span<const DeviceSettings> devices, Quantity q) {
  std::vector<DeviceOffer> out;
  for (const auto& d : devices) {
    if (!d.enabled) continue;
    for (const auto& o : d.kind->offers) {
      if (o.quantity != q) continue;
      const auto dot = o.reading.find('.');
      if (dot == std::string_view::npos || !unit_id(d, o.reading.substr(0, dot))) continue;
      out.push_back({instance_reading(d, o.reading), o.name.empty() ? std::string() : instance_word_of(d, o.name),
                     instance_label(d, o.label), o.rank, o.share});
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const DeviceOffer& a, const DeviceOffer& b) { return a.rank < b.rank; });
  return out;
}

}  // namespace

std::string instance_word_of(const DeviceSettings& d, std::string_view name) {
  // A source named as one of the kind's units ("solark", "eg4") is named as that unit of the
  // device ("solark_a", "eg4_b"); another ("battery_monitor") is prefixed ("gx2_battery_monitor").
  for (const auto& slot : d.kind->units) {
    if (slot.name == name) return instance_prefix(d, name);
  }
  return instance_word(d, name);
}

std::vector<std::string> offered(std::span<const DeviceSettings> devices, Quantity q) {
  std::vector<std::string> out;
  const auto list = offers(devices, q);
  for (const auto& o : list) {
    // A load is measured in one place: the best meter of it only (an inverter's output likewise).
    const bool one_meter = q == Quantity::load_w || q == Quantity::ac_out_l1_w || q == Quantity::ac_out_l2_w ||
                           q == Quantity::ac_out_l3_w || q == Quantity::genset_l1_w || q == Quantity::genset_l2_w ||
                           q == Quantity::genset_l3_w;
    if (one_meter && o.rank != list.front().rank) break;
    out.push_back(o.reading);
  }
  return out;
}

std::vector<std::vector<std::string>> offered_parts(std::span<const DeviceSettings> devices, Quantity q) {
  std::vector<std::vector<std::string>> out;
  const DeviceOffer* last = nullptr;
  for (const auto& o : offers(devices, q)) {
    if (last && o.share && last->share && o.rank == last->rank) out.back().push_back(o.reading);
    else out.push_back({o.reading});
    last = &o;
  }
  return out;
}

SourceSpec source_spec(std::span<const DeviceSettings> devices, Quantity q, const std::string& reading) {
  for (const auto& o : offers(devices, q)) {
    if (o.reading == reading && !o.name.empty()) return {reading, o.name, o.label};
  }
  return {reading, reading, reading};
}

SnapshotMapping mapping_for(std::span<const DeviceSettings> devices) {
  SnapshotMapping m;
  for (const auto& r : offered(devices, Quantity::battery_v)) m.battery_v.push_back(source_spec(devices, Quantity::battery_v, r));
  for (const auto& r : offered(devices, Quantity::battery_temp_c)) {
    m.battery_temp_c.push_back(source_spec(devices, Quantity::battery_temp_c, r));
  }
  m.battery_a = offered_parts(devices, Quantity::battery_a);
  m.pv_w = offered(devices, Quantity::pv_w);
  m.load_w = offered(devices, Quantity::load_w);
  for (const auto& d : devices) {
    if (!d.enabled) continue;
    for (const auto& g : d.kind->generator_running) {
      const auto dot = g.reading.find('.');
      if (dot == std::string_view::npos || !unit_id(d, g.reading.substr(0, dot))) continue;
      m.generator_running.push_back({instance_reading(d, g.reading), g.running, g.not_running});
    }
  }
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
          const std::string prefix = instance_prefix(d, word.unit) + (list ? std::to_string(n) : "");
          const std::string unit_label = fmt::format(fmt::runtime(k.unit_label.empty() ? "{}" : k.unit_label),
                                                     list ? std::to_string(n) : prefix);
          mapping.chargers_limiting.push_back(
              {prefix + "." + std::string(word.field), word.values,
               instance_label(d, fmt::format(fmt::runtime(word.label), unit_label)),
               word.unless_read.empty() ? std::string() : prefix + "." + std::string(word.unless_read)});
        }
      }
    }
    if (k.held) {
      SnapshotMapping::HeldAtSetpoint h;
      h.label = instance_label(d, k.held->label);
      h.battery_v = instance_reading(d, k.held->battery_v);
      h.battery_a = instance_reading(d, k.held->battery_a);
      for (auto pv : k.held->pv_w) h.pv_w.push_back(instance_reading(d, pv));
      h.absorption_v = absorption_v;
      h.float_v = float_v;
      mapping.chargers_held.push_back(std::move(h));
    }
  }
}

}  // namespace drivers
