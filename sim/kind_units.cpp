#include "sim/kind_units.hpp"

#include <algorithm>

#include "drivers/victron_gx.hpp"

namespace sim {

namespace {
// The ids slot `i` is served at: the owner's, else its default.
std::vector<int> slot_ids(const drivers::DeviceKind& kind, std::size_t i, const UnitIds& ids) {
  if (i < ids.size() && !ids[i].empty()) return ids[i];
  if (kind.units[i].default_id) return {*kind.units[i].default_id};
  return {};
}

// The first id of the slot named `name`, if it is served.
std::optional<int> first_id(const drivers::DeviceKind& kind, std::string_view name, const UnitIds& ids) {
  for (std::size_t i = 0; i < kind.units.size(); ++i) {
    if (kind.units[i].name != name) continue;
    const auto served = slot_ids(kind, i, ids);
    if (!served.empty()) return served.front();
  }
  return std::nullopt;
}
}  // namespace

std::vector<UnitSpec> units_for(const drivers::DeviceKind& kind, const UnitIds& ids) {
  std::vector<UnitSpec> out;
  for (std::size_t i = 0; i < kind.units.size(); ++i) {
    const auto& slot = kind.units[i];
    if (!slot.table || slot.table->registers.empty()) continue;
    int first = 65535, last = 0;
    for (const auto& r : slot.table->registers) {
      first = std::min<int>(first, r.address);
      last = std::max<int>(last, r.address + drivers::word_count(r.type) - 1);
    }
    for (const auto& w : kind.charge_limits) {
      if (w.unit == slot.name) first = std::min<int>(first, w.address), last = std::max<int>(last, w.address);
    }
    for (const int id : slot_ids(kind, i, ids)) {
      out.push_back({id, slot.table, static_cast<std::uint16_t>(first), static_cast<std::uint16_t>(last - first + 1)});
    }
  }
  return out;
}

void serve_charge_limits(DeviceServer& server, const drivers::DeviceKind& kind, int initial_a, const UnitIds& ids) {
  for (const auto& w : kind.charge_limits) {
    const auto id = first_id(kind, w.unit, ids);
    if (!id) continue;
    const drivers::UnitSlot* slot = nullptr;
    for (const auto& s : kind.units) slot = s.name == w.unit ? &s : slot;
    const auto initial = static_cast<std::int16_t>(w.no_limit != 0 ? w.no_limit : initial_a);
    server.serve_writable(*id, w.address, initial, slot && slot->table && slot->table->writes_fc16);
  }
}

std::optional<double> charge_limit_a(const DeviceServer& server, const drivers::DeviceKind& kind, const UnitIds& ids) {
  std::optional<double> lowest;
  for (const auto& w : kind.charge_limits) {
    const auto id = first_id(kind, w.unit, ids);
    if (!id) continue;
    const auto v = server.writable(*id, w.address);
    if (!v || (w.no_limit != 0 && *v == w.no_limit) || *v < 0) continue;  // "no limit" (the DVCC's -1)
    if (!lowest || *v < *lowest) lowest = *v;
  }
  return lowest;
}

void couple_charge_limits(SiteModel& model, const DeviceServer& victron, const DeviceServer& solark, int solark_unit,
                          const std::vector<ServedDevice>& others) {
  const int dvcc = victron.dvcc_max_charge_current();
  std::optional<double> inverters = solark.writable(solark_unit, 210);
  for (const auto& d : others) {
    if (d.kind->key == drivers::victron::kind().key) continue;  // a second GX: its MPPTs are not modelled apart
    const auto limit = charge_limit_a(*d.server, *d.kind, d.ids);
    if (limit && (!inverters || *limit < *inverters)) inverters = limit;
  }
  model.victron_charge_limit_a = dvcc < 0 ? std::nullopt : std::optional<double>(dvcc);
  model.solark_charge_limit_a = inverters;
}

}  // namespace sim
