#pragma once
// The broker as shackd sees it (issue 44): each outage with its first cause, the failed
// connects, the last outage, the uplink's bridges as the broker reports them on $SYS; published
// on <prefix>/health. Handed the link's connection events and $SYS messages as values, it logs
// and returns what is to be an alarm; it owns nothing of the link, the relays or the loop.
#include <cstdint>
#include <optional>
#include <string>

#include "daemon/publish/publish.hpp"

namespace shackd {

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
  // A message on $SYS/: a bridge's state (the uplink, daemon/publish/uplink.hpp), `only` the
  // bridge's client id. False: not a $SYS topic. `said`: the change to tell as an event.
  bool bridge(const std::string& topic, const std::string& payload, std::int64_t wall_s, const std::string& only,
              std::optional<Alarm>& said);
  void forget_bridges() { health_.bridges.clear(); }  // the uplink turned off by a reload
  const MqttHealth& health() const { return health_; }
  // The last connect failure, as logged; empty when connected.
  const std::string& failure() const { return failure_; }

 private:
  void down(const std::string& cause, std::int64_t wall_s);
  MqttHealth health_;
  std::string failure_;
  bool alarmed_ = false;  // mqtt_unavailable raised for the outage under way
};

}  // namespace shackd
