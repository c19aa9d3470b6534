#pragma once
// The broker as shackd sees it (issue 44): each outage with its first cause, the failed
// connects, the last outage, the uplink's bridges as the broker reports them on $SYS; published
// on <prefix>/health. Handed the link's connection events and $SYS messages as values, it logs
// and returns what is to be an alarm; it owns nothing of the link, the relays or the loop.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "daemon/vocab/publish.hpp"
#include "rules/time.hpp"

namespace shackd {

// mosquitto's count of the messages it dropped past its queues: past a client's
// max_queued_messages or max_queued_bytes (mosquitto.conf(5)), "The total number of publish
// messages that have been dropped due to inflight/queuing limits" (mosquitto(8), $SYS topics). It
// is the broker's, for all its clients together: mosquitto 2.0 counts every drop in one counter
// (src/database.c, db__message_insert: G_MSGS_DROPPED_INC) and names the client only in a log
// notice, "Outgoing messages are being dropped for client ...", once per connection (its
// is_dropping is reset only at a CONNECT, src/handle_connect.c), which on $SYS/broker/log/N
// (log_dest topic) would reach shackd through the very queue that is full. So shackd cannot count
// its own share, nor find the gaps in what others send it (a relay's or a sensor's messages, a
// setting, carry no sequence): it counts what the broker says, as the broker's. The figure is
// published retained, at QoS 2, when it changed, every sys_interval (10 s by default), and expires
// a minute after (src/sys_tree.c).
inline constexpr const char* kBrokerDroppedTopic = "$SYS/broker/publish/messages/dropped";

class BrokerWatch {
 public:
  struct Alarm {
    bool raised = true;  // "alarm", else "alarm_end"
    std::string text;
  };
  // How long the broker may be away before it is an alarm (mqtt_unavailable): the link tries
  // again within half a second (drivers/mqtt/reconnect.hpp), so a broker's restart or a Wi-Fi
  // re-association is over well within this and said in the log only.
  static constexpr std::int64_t kAlarmAfterS = 30;
  // The link could not connect: the outage starts, or goes on. Logged once per change of cause
  // (a broker that stays away must not fill the journal); an alarm at once when the broker is
  // there and refuses us (CONNACK 1-5: credentials, the client id), else after kAlarmAfterS.
  std::optional<Alarm> connect_failed(const std::string& cause, std::int64_t wall_s);
  // Each cycle: the alarm of an outage that has lasted kAlarmAfterS.
  std::optional<Alarm> watch(std::int64_t wall_s);
  // Connected (again): the alarm's end, if the outage was one.
  std::optional<Alarm> connected(std::int64_t wall_s);
  void lost(const std::string& cause, std::int64_t wall_s);
  // A message on $SYS/: a bridge's state (the uplink, daemon/vocab/uplink.hpp), `only` the
  // bridge's client id. False: not a $SYS topic. `said`: the change to tell as an event.
  bool bridge(const std::string& topic, const std::string& payload, std::int64_t wall_s, const std::string& only,
              std::optional<Alarm>& said);
  void forget_bridges() { health_.bridges.clear(); }  // the uplink turned off by a reload
  // The broker's count of what it dropped (kBrokerDroppedTopic), retained or live. Counts the rise
  // from the first figure heard (a smaller figure: the broker restarted, and counts again from 0);
  // `said`: the alarm when drops begin (at most every kDropAlarmEvery).
  void broker_drops(const std::string& payload, bool retained, rules::SteadyTime now, std::optional<Alarm>& said);
  // Each cycle: the alarm's end after kDropQuiet without a drop.
  void tick(rules::SteadyTime now, std::optional<Alarm>& said);
  static constexpr std::chrono::minutes kDropQuiet{10};
  const MqttHealth& health() const { return health_; }
  // The last connect failure, as logged; empty when connected.
  const std::string& failure() const { return failure_; }

 private:
  void down(const std::string& cause, std::int64_t wall_s);
  MqttHealth health_;
  std::string failure_;
  bool alarmed_ = false;  // mqtt_unavailable raised for the outage under way
  std::optional<rules::SteadyTime> dropped_at_;  // the last rise heard
  bool dropping_ = false;                        // the broker_dropping alarm is in force
};

}  // namespace shackd
