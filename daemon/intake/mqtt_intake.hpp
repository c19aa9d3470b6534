#pragma once
// What comes in on MQTT (issue 44, item 3): relay states and power, sensors, mode commands,
// settings, Home Assistant's restarts, the uplink's bridges and the link's own news. Each message
// is read and checked here, where it arrives, and comes out as a value (`Intake`) that the loop
// hands on: overrides to the core's inbox, readings to its devices, settings to the store, events
// to the history. The intake writes nothing of the core's, the store's or the publisher's; it owns
// what it keeps between messages: the settings offered, the broker's outages and bridges.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "daemon/config/config.hpp"
#include "daemon/config/mqtt_settings.hpp"
#include "daemon/core/overrides.hpp"
#include "daemon/intake/broker_watch.hpp"
#include "daemon/site/loads.hpp"
#include "daemon/site/profiles.hpp"
#include "daemon/site/refusal.hpp"
#include "daemon/system/clock.hpp"
#include "drivers/mqtt/link.hpp"
#include "drivers/mqtt/relays.hpp"
#include "rules/time.hpp"

namespace shackd {

// An event the intake asks for: kind ("alarm", "alarm_end", "override_rejected", "config"), the
// load it is about ("" for the site) and its words.
struct IntakeEvent {
  std::string kind;
  std::string load_id;
  std::string detail;
};

// A setting checked against the profiles it was read with (`before`), to be stored and only then
// put in force (daemon/intake/setting_desk.hpp).
struct SettingRequest {
  std::string load_id;  // the relay id it addresses
  std::string field;    // "start_voltage"
  std::string payload;  // as sent: checked again against the profiles in force when it is taken
  std::string source;   // "mqtt: <prefix>/load/<id>/<field>/set", for config_history
  std::string change;   // "miner 'Primary S21+': start_voltage 50.00 -> 50.50"
  StoredProfiles before, next;
};

// What the messages since the last take came to, in the order they came.
struct Intake {
  std::vector<OverrideRequest> overrides;                 // checked, for the core's inbox
  std::vector<std::pair<std::string, double>> readings;   // "sensor.<id>" and its value
  std::vector<SettingRequest> settings;                   // checked, to be stored
  // Settings refused where they came: said, and the value in force shown again, by the one place
  // that says every refusal of a setting (MqttDesk::refuse_setting, daemon/loop/mqtt_desk.cpp).
  std::vector<Refusal> settings_refused;
  std::vector<IntakeEvent> events;
  bool connected = false;        // the link (re)connected: the events waiting, everything again
  bool send_everything = false;  // Home Assistant restarted
  std::uint64_t dropped = 0;     // past the cycle's share (kMessagesPerCycle, a quarter interval)
  std::uint64_t refused = 0;     // larger than kMaxPayloadBytes or kMaxTopicBytes: refused unread
  std::vector<std::string> failures;  // what a message threw: counted by the loop as a side job's failure
};

// The site as the intake reads it: the loads a command may address, the profiles a setting is
// checked against.
struct IntakeSite {
  const std::vector<LoadRef>& loads;
  const StoredProfiles& profiles;
};

class MqttIntake {
 public:
  // A cycle's share: at most this many messages; the rest are dropped, counted.
  static constexpr std::size_t kMessagesPerCycle = 1000;
  // The broker's $SYS words read past that share each cycle (take()).
  static constexpr std::size_t kBrokerWordsPerCycle = 64;
  // The relays' words read past that share each cycle (take()): a connect's burst is a few a relay.
  static constexpr std::size_t kRelayWordsPerCycle = 256;
  // ... and at most this many bytes of them: a relay's state or answer is a few hundred bytes.
  static constexpr std::size_t kRelayWordBytesPerCycle = 64 * 1024;
  // The owner's words read past that share each cycle (take()): mode commands and settings, a
  // few bytes each (a Home Assistant select's option, a number).
  static constexpr std::size_t kOwnerWordsPerCycle = 64;
  static constexpr std::size_t kOwnerWordBytesPerCycle = 16 * 1024;
  // Larger messages are refused unread: no relay, sensor or command message is near this size (a
  // Shelly's full status is a few kB), and nobody's megabyte is parsed every cycle.
  static constexpr std::size_t kMaxPayloadBytes = drivers::mqtt::kMaxMessageBytes;
  static constexpr std::size_t kMaxTopicBytes = 512;

  // The config's MQTT side, at the start and at each reload; `fleet_site_id` names the uplink's
  // bridge when the config does not.
  void configure(const Config& config, const std::string& fleet_site_id);
  // What is settable over MQTT (mqtt.allow_settings), said in the log: at the start and a reload.
  void offer(const StoredProfiles& profiles, const std::vector<LoadRef>& loads);
  const std::vector<OfferedSetting>& offered() const { return offered_; }
  const std::optional<YAML::Node>& profiles_section() const { return section_; }

  // The link's next event, never waiting (its owner's: daemon/loop/mqtt_links.hpp).
  using NextEvent = std::function<std::optional<drivers::mqtt::Event>()>;
  // Everything the link has now. Connection events are always read; messages up to
  // kMessagesPerCycle, and until `budget_end` on `clock` (a test's stepped clock stands still, so
  // there only the count binds), and past that the broker's and the relays' words and the owner's
  // mode commands and settings, each up to its own count. Relay news goes to `relays` (null:
  // none), and a connection commands them again.
  Intake take(const NextEvent& next, drivers::mqtt::RelayManager* relays, const IntakeSite& site, const LoopClock& clock,
              rules::SteadyTime budget_end, rules::SteadyTime now);

  const BrokerWatch& broker() const { return broker_; }

 private:
  // What one lane reads past the share in a take: its words and their bytes, each to its bound.
  struct PastShare {
    std::size_t max_words, max_bytes;
    std::size_t words = 0, bytes = 0;
    bool admits(std::size_t payload_bytes) const;
    void take(std::size_t payload_bytes);
  };
  bool owner_topic(const std::string& topic) const;
  // One message into `into`; what it throws is take()'s to count (it guards each one).
  // `heard`: when the link took it, on the loop's clock (a relay's uptime dates its start from it).
  void message(Intake& into, const std::string& topic, const std::string& payload, bool retained,
               drivers::mqtt::RelayManager* relays, const IntakeSite& site, rules::SteadyTime now,
               rules::SteadyTime heard, std::int64_t wall_s);
  void connection(Intake& into, const drivers::mqtt::Event& e, drivers::mqtt::RelayManager* relays,
                  rules::SteadyTime now, std::int64_t wall_s);
  void mode_command(Intake& into, const std::string& id, const std::string& payload, const IntakeSite& site,
                    rules::SteadyTime now);
  void setting(Intake& into, const std::string& id, const std::string& field, const std::string& payload,
               const IntakeSite& site);

  MqttConfig mqtt_;
  bool dry_run_ = false;  // no relay command, not even a connection's
  std::vector<drivers::mqtt::SensorConfig> sensors_;
  bool uplink_ = false;
  std::string bridge_;  // the uplink's bridge client id, as $SYS names it
  std::optional<YAML::Node> section_;  // the config's `profiles:`: what it gives is not settable
  std::vector<OfferedSetting> offered_;
  BrokerWatch broker_;
};

// `once`: listens up to `bound` for a live message from each of `sensors` on a link of its own;
// returns the readings ("sensor.<id>", value) it heard.
std::vector<std::pair<std::string, double>> listen_for_sensors(const MqttConfig& mqtt,
                                                               const std::vector<drivers::mqtt::SensorConfig>& sensors,
                                                               std::chrono::milliseconds bound, const LoopClock& clock);

}  // namespace shackd
