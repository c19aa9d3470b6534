#pragma once
// The uplink (docs/guide.md, Many sites): the site's broker bridged to a central broker, which
// carries the topics under <prefix>/site/<site id>/ and nothing else: the events as they happen
// and a state every uplink.state_interval_s (a day of it queues in the site broker while the link
// is down; the per-cycle topics, about 140 MB a day, stay on site). The bridge's own state is
// what mosquitto publishes, retained, on $SYS/broker/connection/<client id>/state: "1" connected,
// "0" not (man mosquitto.conf, `notifications`).
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "daemon/vocab/cycle_facts.hpp"
#include "daemon/vocab/publish.hpp"

namespace shackd {

// <prefix>/site/<site id>/<leaf>
std::string uplink_topic(const std::string& prefix, const std::string& site_id, const char* leaf);

// The bridges' $SYS states, as the site broker reports them.
inline constexpr const char* kBridgeStateSubscription = "$SYS/broker/connection/+/state";
// A broker bridges to one central broker, sometimes two: more names than this are not kept (the
// topic is the broker's own, but a broker misconfigured or hostile could send any number).
inline constexpr std::size_t kMaxBridges = 8;
struct BridgeNews {
  std::string bridge;
  bool connected = false;
  bool changed = false;  // a connect or a drop (not the first word about it)
  bool first = false;    // the first word about this bridge since shackd started
};
// nullopt when `topic` is not a bridge's state; else what it says, with `bridges` updated. A
// payload other than "0" or "1", a bridge other than `only` (this site's: any client may publish,
// even retain, on $SYS where the broker has no ACL, issue 48), or past kMaxBridges, is refused with
// the reason in `why`.
std::optional<BridgeNews> bridge_state(const std::string& topic, const std::string& payload, std::int64_t wall_s,
                                       std::string& why, std::map<std::string, MqttHealth::Bridge>& bridges,
                                       const std::string& only);

// <prefix>/site/<site id>/state, retained: who (the site's id and name), when, the battery and
// the site as <prefix>/state says it, the alarms and each load's state and reason, in a few
// hundred bytes.
std::string uplink_state_json(const CycleFacts& v, const std::string& site_id, const std::string& site_name,
                              std::int64_t wall_s);

}  // namespace shackd
