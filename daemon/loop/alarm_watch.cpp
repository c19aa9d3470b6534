#include "daemon/loop/alarm_watch.hpp"

#include <fmt/format.h>

#include "daemon/publish/render.hpp"
#include "daemon/system/log.hpp"

namespace shackd {

// An event when one appears or clears, not every cycle.
std::vector<AlarmWatch::Note> AlarmWatch::tell(const rules::Snapshot& snap, const rules::Decision& d,
                                               const drivers::DeviceStatus& devices) {
  std::vector<Note> notes;
  std::set<int> alarms;
  for (const auto& a : d.alarms) {
    alarms.insert(static_cast<int>(a.code));
    if (!active_.count(static_cast<int>(a.code))) {
      std::string text = rules::describe(a);
      if (a.code == rules::ReasonCode::voltage_fallback) {
        text += fmt::format(": {} is stale, deciding on {}", source_label(snap.battery_v, d.battery.stale_preferred),
                            source_label(snap.battery_v, d.battery.source));
      }
      log::warn("alarm: {}", text);
      notes.push_back({true, a, std::move(text), true});
    }
  }
  active_ = alarms;
  // The devices' own alarms (a BMS's "no charging" is news, not shackd's decision: it already
  // stops the chargers).
  for (const auto& change : devices_.update(devices)) {
    std::string text = describe(change);
    log::write(change.raised && !change.alarm.warning ? log::Level::warn : log::Level::info, "device alarm: " + text);
    notes.push_back({change.raised, {rules::ReasonCode::none}, std::move(text), false});
  }
  if (d.block_charging != charge_blocked_) {
    charge_blocked_ = d.block_charging;
    log::write(charge_blocked_ ? log::Level::warn : log::Level::info, rules::describe(d.charge_reason));
    notes.push_back({charge_blocked_, d.charge_reason, "", true});
  }
  return notes;
}

}  // namespace shackd
