#include "daemon/loop/alarm_watch.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "daemon/vocab/render.hpp"
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
    const char* would = !shadow_          ? ""
                        : charge_blocked_ ? "shadow: would hold the chargers' limits at 0 A (nothing written): "
                                          : "shadow: would put the chargers' limits back (nothing written): ";
    log::write(charge_blocked_ ? log::Level::warn : log::Level::info, would + rules::describe(d.charge_reason));
    notes.push_back({charge_blocked_, d.charge_reason, "", true});
  }
  return notes;
}

bool relay_alarm_bad(const drivers::mqtt::RelayAlarm& a) {
  return a.raised || a.code == "relay_unconfirmed" || a.code == "relay_offline" || a.code == "relay_changed";
}

std::vector<RelayAlarmLine> relay_alarm_lines(const std::vector<drivers::mqtt::RelayAlarm>& alarms) {
  // In the order they came, each (code, words) once, with every relay that said it.
  struct Group {
    const drivers::mqtt::RelayAlarm* first;
    std::vector<std::string> relays;
  };
  std::vector<Group> groups;
  for (const auto& a : alarms) {
    const auto same = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
      return g.first->code == a.code && g.first->detail == a.detail && relay_alarm_bad(*g.first) == relay_alarm_bad(a);
    });
    if (same != groups.end()) same->relays.push_back(a.relay);
    else groups.push_back({&a, {a.relay}});
  }
  std::vector<RelayAlarmLine> out;
  for (const auto& g : groups) {
    const std::string who = g.relays.size() == 1 ? "relay " + g.relays.front()
                                                 : fmt::format("relays {}, each", fmt::join(g.relays, ", "));
    out.push_back({relay_alarm_bad(*g.first) ? log::Level::warn : log::Level::info,
                   fmt::format("{}: {}: {}", who, g.first->code, g.first->detail)});
  }
  return out;
}

std::vector<RelayAlarmLine> RelayAlarmLog::lines(const std::vector<drivers::mqtt::RelayAlarm>& alarms,
                                                 rules::SteadyTime now) {
  std::vector<RelayAlarmLine> out;
  const auto grouped = relay_alarm_lines(alarms);
  if (said_.size() > 64) said_.clear();  // bounded: a flapping relay's many words are forgotten
  for (auto line : grouped) {
    // "relay(s) WHO: CODE: WORDS": the key is CODE: WORDS, the same whoever said it.
    const auto sep = line.text.find(": ");
    const std::string who = line.text.substr(0, sep);
    const std::string key = sep == std::string::npos ? line.text : line.text.substr(sep + 2);
    // Only a relay's setting is a finding that others share (its power-on state): a relay that
    // goes offline again is news again, in full.
    if (!key.starts_with("relay_power_on: ")) {
      out.push_back(std::move(line));
      continue;
    }
    const auto it = said_.find(key);
    if (it != said_.end() && now - it->second.at < kQuiet) {
      const auto code_end = key.find(": ");
      out.push_back({log::Level::info, fmt::format("{}: {}: the same as {} said above", who,
                                                   key.substr(0, code_end), it->second.who)});
      continue;
    }
    said_[key] = {now, who};
    out.push_back(std::move(line));
  }
  return out;
}

}  // namespace shackd
