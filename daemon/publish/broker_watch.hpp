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
  // The link could not connect: the outage starts, or goes on. An alarm once per change of cause:
  // a broker that stays away must not fill the journal.
  std::optional<Alarm> connect_failed(const std::string& cause, std::int64_t wall_s);
  // Connected (again): the outage's end, if there was one.
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
};

}  // namespace shackd
