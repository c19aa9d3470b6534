#include "daemon/loop/charge_block.hpp"

#include <fmt/format.h>

#include <set>

namespace shackd {

namespace {

bool held(const std::map<std::string, ChargeLimitRow>& rows, const std::string& name) {
  const auto it = rows.find(name);
  return it != rows.end() && it->second.applied;
}

}  // namespace

void ChargeBlock::build(std::vector<devices::ChargeLimitSlot> slots, std::map<std::string, ChargeLimitRow> rows,
                        const FindWriter& writer, const ChargeLimit::Save& save) {
  limits_.clear();
  resumed_.clear();
  orphaned_.clear();
  // A device renamed (solark -> solark_a, the old form given a name) while its limit was held at
  // 0 A: its kind's row is its own when it is the kind's only device and no device has that row.
  std::map<std::string, int> of_kind_row;
  std::set<std::string> names;
  for (const auto& slot : slots) ++of_kind_row[slot.kind_row], names.insert(slot.spec.name);
  for (const auto& slot : slots) {
    const std::string& old = slot.kind_row;
    if (old.empty() || old == slot.spec.name || names.count(old) || of_kind_row[old] != 1 || rows.count(slot.spec.name) ||
        !held(rows, old)) {
      continue;
    }
    rows[slot.spec.name] = rows[old];
    save(slot.spec.name, rows[old]);
    save(old, ChargeLimitRow{false, rows[old].saved});
    rows.erase(old);
    resumed_.push_back(fmt::format("{}: held at 0 A as {} before the device was named {}: it is that device's now",
                                   slot.spec.label, old, slot.device));
  }
  for (const auto& [name, row] : rows) {
    if (row.applied && !names.count(name)) {
      orphaned_.push_back(fmt::format(
          "charge limit {}: shackd held it at 0 A when it stopped, and no configured device has it now (a device "
          "removed or renamed?): that charger may still be blocked from charging; set its limit back on the device",
          name));
    }
  }
  for (auto& slot : slots) {
    RegisterSwapper* w = writer(slot.device);
    const auto row = rows.find(slot.spec.name);
    const bool held = row != rows.end() && row->second.applied;
    if (!w || (!slot.configured && !held)) continue;
    ChargeLimit limit(std::move(slot.spec), *w, save);
    if (row != rows.end()) limit.resume(row->second);
    if (held) {
      resumed_.push_back(
          fmt::format("{}: held at 0 A when shackd stopped; will put back {}", limit.spec().label, row->second.saved));
    }
    limits_.push_back({std::move(limit), !slot.configured});
  }
}

void ChargeBlock::step(bool blocked) {
  for (auto& [limit, retiring] : limits_) {
    for (auto& n : limit.step(blocked && !retiring)) notes_.push_back({limit.spec().label, std::move(n)});
  }
}

}  // namespace shackd
