#include "drivers/readings.hpp"

#include <algorithm>

namespace drivers {

void ReadingStore::update(const PollResult& poll) {
  for (const Reading& r : poll.readings) set(r.name, r.value, r.as_of);
  // "Not available" is missing now, so the next source in the owner's order decides at once,
  // not once this one has aged out.
  for (const auto& name : poll.unavailable) {
    if (const auto it = latest_.find(name); it != latest_.end()) latest_.erase(it);
  }
}

void ReadingStore::set(const std::string& name, double value, SteadyTime as_of) {
  latest_[name] = rules::Reading{value, as_of};
}

std::optional<rules::Reading> ReadingStore::get(std::string_view name) const {
  const auto it = latest_.find(name);
  if (it == latest_.end()) return std::nullopt;
  return it->second;
}

std::optional<rules::Reading> ReadingStore::first_fresh(const std::vector<std::string>& names, SteadyTime now,
                                                        rules::Duration fresh_within) const {
  std::optional<rules::Reading> newest;
  for (const auto& n : names) {
    const auto r = get(n);
    if (!r) continue;
    if (now - r->as_of <= fresh_within) return r;
    if (!newest || r->as_of > newest->as_of) newest = r;
  }
  return newest;
}

std::optional<rules::Reading> ReadingStore::sum(const std::vector<std::string>& names) const {
  if (names.empty()) return std::nullopt;
  rules::Reading total{0, SteadyTime::max()};
  for (const auto& n : names) {
    const auto r = get(n);
    if (!r) return std::nullopt;
    total.value += r->value;
    total.as_of = std::min(total.as_of, r->as_of);
  }
  return total;
}

rules::Snapshot build_snapshot(const ReadingStore& store, const SnapshotMapping& m, SteadyTime now,
                               std::optional<int> local_minute_of_day) {
  rules::Snapshot s;
  s.now = now;
  s.local_minute_of_day = local_minute_of_day;
  s.monitor_battery_v = store.get(m.monitor_battery_v);
  s.gx_battery_v = store.get(m.gx_battery_v);
  s.solark_battery_v = store.get(m.solark_battery_v);
  s.battery_a = store.first_fresh(m.battery_a, now, m.fresh_within);
  s.battery_temp_c = store.first_fresh(m.battery_temp_c, now, m.fresh_within);
  s.pv_w = store.sum(m.pv_w);
  s.load_w = store.sum(m.load_w);
  for (const auto& name : m.zone_temp_c) s.zone_temp_c.push_back(store.get(name));
  return s;
}

}  // namespace drivers
