#pragma once
// What comes in on MQTT, from the intake's checked values to where each goes (issue 57: out of
// Daemon): the intake (daemon/intake/mqtt_intake.hpp) and the settings on their way to the card
// (daemon/intake/setting_desk.hpp), and the hand-on of what they made: readings to the core's
// devices, overrides to its inbox, settings to the recorder, events to the history, a connect's
// work to the publisher and the shadow. Before the rules, the overrides and a relay's lost power
// taken into the core. It joins the intake with the publisher, the store and the shadow, which
// never include each other: so it is the loop's.
#include <string>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/core/events.hpp"
#include "daemon/core/safety_core.hpp"
#include "daemon/intake/mqtt_intake.hpp"
#include "daemon/intake/setting_desk.hpp"
#include "daemon/system/clock.hpp"

namespace shackd {

class MqttLinks;
class Publisher;
class SafetyLoop;
class ShadowSide;
class StoreSide;

class MqttDesk {
 public:
  // Where its values go; each outlives the desk (the daemon's members).
  struct Parts {
    SafetyLoop& loop;
    MqttLinks& mqtt;
    Publisher& publisher;
    ShadowSide& shadow;
    StoreSide& storage;
    Events& events;
    const Config& config;
    LoopClock& clock;
  };
  explicit MqttDesk(Parts parts) : p_(parts) {}

  MqttIntake& intake() { return intake_; }
  const MqttIntake& intake() const { return intake_; }
  // A reload: the settings in flight are checked again as they are taken.
  void forget_ahead() { settings_.forget_ahead(); }

  // What came in since the last cycle: at most kMessagesPerCycle messages and a quarter of the
  // interval, the rest dropped and counted. True: the link (re)connected.
  bool take(rules::SteadyTime now);
  // At the top of a cycle: the settings the store has taken, put in force.
  void take_settings();
  // Before the rules: the core takes the overrides (their rows marked to be stored) and each
  // relay's lost power, each in its own guard; told after the relays (SafetyLoop::tell).
  struct BeforeRules {
    std::vector<OverrideRequest> overrides;
    std::vector<SafetyCore::PowerLost> lost;
  };
  BeforeRules before_rules(rules::SteadyTime now);
  // The STATUS= line's MQTT part: ", mqtt ok", ", MQTT DOWN for N s: why", or nothing without MQTT.
  std::string status() const;

 private:
  IntakeSite site() const;
  void hand_on(Intake&& in, rules::SteadyTime now);
  void refuse_setting(const Refusal& no);

  Parts p_;
  // What comes in on MQTT, checked where it arrives; the settings offered, the broker's outages.
  MqttIntake intake_;
  SettingDesk settings_;  // settings from MQTT on their way to the card, in force once stored
};

}  // namespace shackd
