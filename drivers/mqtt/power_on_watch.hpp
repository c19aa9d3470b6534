#pragma once
// Each relay's power-on behaviour as its device last said it (drivers/mqtt/power_on.hpp): asked
// when the broker connects, when the device comes back online (a reboot, a web page may have
// changed it), and every few hours; a relay that would come back ON by itself after a power cut
// is an alarm (relay_power_on). The daemon's relay manager owns one; `shackd check --broker` and
// `shackd relays power-on-off` use one on their own connection.
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "drivers/mqtt/power_on.hpp"
#include "drivers/mqtt/relay_alarm.hpp"
#include "rules/time.hpp"

namespace drivers::mqtt {

using rules::SteadyTime;

struct PowerOnStatus {
  std::optional<PowerOnState> state;  // as the device last said it
  std::string unreadable;             // its protocol cannot say (power_on_unreadable)
  std::string refused;                // the device refused the last request, in its words
  std::optional<SteadyTime> asked_at, answered_at;
  bool unanswered = false;            // asked, and nothing came within kAnswerWait
  int silent_asks = 0;                // asks in a row that nothing answered: the next waits longer
  std::optional<SteadyTime> set_at;   // a set to OFF went out
  bool set_taken = false;             // ... and the device took it
  int answers = 0;                    // answers with a state so far
};

class PowerOnWatch {
 public:
  // An ask not answered within kAnswerWait is asked again then, and again after twice as long
  // each time, up to kAskEvery: an answer lost (the device busy, a broker under a flood) is not
  // waited for for hours.
  static constexpr std::chrono::seconds kAnswerWait{30};
  static constexpr std::chrono::hours kAskEvery{6};
  // Two asks of one relay at least this far apart (a device that flaps online and offline).
  static constexpr std::chrono::seconds kAskGap{10};
  using Publish = std::function<bool(const std::string& topic, const std::string& payload, int qos, bool retain)>;

  PowerOnWatch(SharedRelayConfigs relays, Publish publish);

  std::vector<std::string> subscriptions() const;
  // Asks one relay (nothing for one whose protocol cannot say, or asked within kAskGap unless
  // `force`), or all of them.
  void ask(const std::string& id, SteadyTime now, bool force = false);
  void ask_all(SteadyTime now, bool force = false);
  // Sends the set to OFF at power-on; a Shelly's acknowledgement is followed by a fresh ask.
  // false: its protocol cannot set it, or the broker did not take the request.
  bool set_off(const std::string& id, SteadyTime now);
  // true when the message answered one of the relays.
  bool on_message(const std::string& topic, const std::string& payload, SteadyTime now);
  // Answers not coming (asked again), and the periodic ask.
  void tick(SteadyTime now);

  bool has(const std::string& id) const { return status_.count(id) > 0; }
  const PowerOnStatus& status(const std::string& id) const { return status_.at(id); }
  std::vector<RelayAlarm> take_alarms();

 private:
  const RelayConfig* config(const std::string& id) const;
  void told(const RelayConfig& r, PowerOnStatus& s, const PowerOnState& state);

  SharedRelayConfigs relays_;  // its manager's (relays.hpp)
  Publish publish_;
  std::map<std::string, PowerOnStatus> status_;
  std::map<std::string, PowerOnRisk> alarmed_;  // the risk last raised or cleared, per relay
  std::vector<RelayAlarm> alarms_;
  int sequence_ = 1;
};

// The relay's power-on state as shackd publishes it (<prefix>/load/<id>/power_on) and `status`
// reads it back: {"setting":"3","comes_on":true,"risk":"on","text":"...","fix":"..."}.
std::string power_on_json(const RelayConfig& r, const PowerOnStatus& s);
// For people: "comes back ON by itself after a power cut: returns to its last saved state ...".
std::string power_on_words(const PowerOnStatus& s);
// The command that sets it (for a protocol that can), or what to do by hand.
std::string power_on_fix(const RelayConfig& r);

}  // namespace drivers::mqtt
