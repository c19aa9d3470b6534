#pragma once
// The site's alarms as news (issue 44): the rules' alarms as they appear, the devices' own alarms
// (a BMS's, a charger's, an inverter's) as they appear or clear, and the charge block as it begins
// or ends. Handed the cycle's decision and the devices' status as values after the watchdog's
// ping; returns what is to be an event, logs as it goes, and keeps only what it last said.
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "daemon/devices/device_alarms.hpp"
#include "daemon/system/log.hpp"
#include "drivers/mqtt/relay_alarm.hpp"
#include "drivers/device_status.hpp"
#include "rules/decision.hpp"
#include "rules/reason.hpp"
#include "rules/snapshot.hpp"
#include "rules/time.hpp"

namespace shackd {

// What the relays said in one take, as log lines: relays that said the same thing share one line
// (issue 56: six relays at Tasmota's default PowerOnState opened the demo with six identical
// 300-character warnings). An alarm or a relay gone quiet is a warning; the rest is news (info).
struct RelayAlarmLine {
  log::Level level = log::Level::info;
  std::string text;
};
std::vector<RelayAlarmLine> relay_alarm_lines(const std::vector<drivers::mqtt::RelayAlarm>& alarms);

// The same across takes for a relay's power-on setting: said in full within kQuiet, it is said
// again only as "the same as", below a warning (the relays of a site answer their power-on
// question a cycle or two apart). Every other news of a relay is said in full each time.
class RelayAlarmLog {
 public:
  static constexpr std::chrono::minutes kQuiet{10};
  std::vector<RelayAlarmLine> lines(const std::vector<drivers::mqtt::RelayAlarm>& alarms, rules::SteadyTime now);

 private:
  struct Said {
    rules::SteadyTime at;
    std::string who;  // "relay primary_s21", "relays a, b"
  };
  std::map<std::string, Said> said_;  // by code and words
};
class AlarmWatch {
 public:
  struct Note {
    bool raised = true;      // "alarm", else "alarm_end"
    rules::Reason reason;
    std::string text;        // empty: the reason's own words
    bool about_cycle = true;  // stamped with the cycle's battery, PV and load (the rules' and the block's)
  };
  // The rules' new alarms, the devices' changes, then the charge block's, in that order.
  std::vector<Note> tell(const rules::Snapshot& snap, const rules::Decision& d, const drivers::DeviceStatus& devices);
  // Shadow mode: the charge block is said as what shackd would do, nothing being written.
  void set_shadow(bool on) { shadow_ = on; }
  const DeviceAlarmWatch& device_alarms() const { return devices_; }
  // What the relays said, as log lines (RelayAlarmLog).
  std::vector<RelayAlarmLine> relay_lines(const std::vector<drivers::mqtt::RelayAlarm>& alarms, rules::SteadyTime now) {
    return relays_.lines(alarms, now);
  }

 private:
  std::set<int> active_;
  DeviceAlarmWatch devices_;
  bool shadow_ = false;  // shadow mode (issue 60): what it would do is said as such
  bool charge_blocked_ = false;  // as last told: the limits follow the decision in the cycle
  RelayAlarmLog relays_;
};

// An alarm and not news: a relay that does not confirm, went offline, changed by itself, or
// raised an alarm (relay_power_on).
bool relay_alarm_bad(const drivers::mqtt::RelayAlarm& a);

}  // namespace shackd
