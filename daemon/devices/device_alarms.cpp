#include "daemon/devices/device_alarms.hpp"

#include <algorithm>

#include "daemon/text/json_out.hpp"

namespace shackd {

std::vector<DeviceAlarmChange> DeviceAlarmWatch::update(const drivers::DeviceStatus& now) {
  std::vector<DeviceAlarmChange> changes;
  std::map<std::string, drivers::DeviceAlarm> next;
  for (const auto& a : now.alarms) {
    const auto was = active_.find(a.id);
    // A new alarm, or one that went from warning to alarm (or back): told again.
    if (was == active_.end() || was->second.warning != a.warning) changes.push_back({a, true});
    next[a.id] = a;
  }
  for (const auto& [id, a] : active_) {
    if (next.count(id)) continue;
    const bool unknown = std::find(now.unknown.begin(), now.unknown.end(), a.reading) != now.unknown.end();
    if (unknown) {
      next[id] = a;  // its device is not answering: still in force as far as anyone knows
    } else {
      changes.push_back({a, false});
    }
  }
  active_ = std::move(next);
  states_ = now.states;
  return changes;
}

std::string describe(const DeviceAlarmChange& c) {
  const auto& a = c.alarm;
  return a.device + " " + a.id + ": " + a.text + (a.warning ? " (warning)" : "") + (c.raised ? "" : " cleared");
}

std::string device_alarms_json(const DeviceAlarmWatch& w) {
  std::string out = "{";
  json_out::key(out, "alarms");
  out += '[';
  int alarms = 0, warnings = 0;
  for (const auto& [id, a] : w.active()) {
    if (out.back() != '[') out += ',';
    out += '{';
    json_out::key(out, "id");
    json_out::string(out, id);
    json_out::key(out, "device");
    json_out::string(out, a.device);
    json_out::key(out, "level");
    json_out::string(out, a.warning ? "warning" : "alarm");
    json_out::key(out, "text");
    json_out::string(out, a.text);
    out += '}';
    ++(a.warning ? warnings : alarms);
  }
  out += ']';
  json_out::key(out, "count");
  out += "{\"alarm\":" + std::to_string(alarms) + ",\"warning\":" + std::to_string(warnings) + "}";
  json_out::key(out, "states");
  out += '{';
  for (const auto& s : w.states()) {
    json_out::key(out, s.id);
    json_out::string(out, s.value);
  }
  out += "}}";
  return out;
}

}  // namespace shackd
