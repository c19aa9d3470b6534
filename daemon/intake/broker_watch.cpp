#include "daemon/intake/broker_watch.hpp"

#include <fmt/format.h>

#include <charconv>

#include "daemon/vocab/uplink.hpp"
#include "daemon/system/log.hpp"
#include "drivers/text/utf8.hpp"

namespace shackd {

// The broker went away (or never answered): the outage starts now, with the first cause seen.
void BrokerWatch::down(const std::string& cause, std::int64_t wall_s) {
  health_.connected_since_unix_s.reset();
  if (health_.down_since_unix_s) return;
  health_.down_since_unix_s = wall_s;
  health_.down_cause = cause;
  ++health_.outages;
}

std::optional<BrokerWatch::Alarm> BrokerWatch::connect_failed(const std::string& cause, std::int64_t wall_s) {
  ++health_.failed_connects;
  down(cause, wall_s);
  std::optional<Alarm> said;
  if (cause != failure_) {
    // The broker answered and said no (drivers/mqtt/client.cpp, describe_connect_failure): not an
    // outage that passes, the owner's to fix.
    const bool refused = cause.find("(CONNACK ") != std::string::npos;
    log::write(refused ? log::Level::error : log::Level::warn,
               fmt::format("mqtt: {}; trying again (relay commands wait for the broker)", cause));
    if (refused && !alarmed_) {
      alarmed_ = true;
      said = Alarm{true, "mqtt_unavailable: " + cause};
    }
  }
  failure_ = cause;
  return said;
}

std::optional<BrokerWatch::Alarm> BrokerWatch::watch(std::int64_t wall_s) {
  if (alarmed_ || !health_.down_since_unix_s || wall_s - *health_.down_since_unix_s < kAlarmAfterS) return std::nullopt;
  alarmed_ = true;
  const std::string cause = failure_.empty() ? health_.down_cause : failure_;
  log::error("mqtt: no broker for {} s ({}): relay commands cannot reach the relays until it is back",
             wall_s - *health_.down_since_unix_s, cause);
  return Alarm{true, fmt::format("mqtt_unavailable: no broker for {} s: {}", wall_s - *health_.down_since_unix_s, cause)};
}

std::optional<BrokerWatch::Alarm> BrokerWatch::connected(std::int64_t wall_s) {
  failure_.clear();
  std::optional<Alarm> said;
  if (health_.down_since_unix_s) {
    health_.last_outage = MqttHealth::Outage{*health_.down_since_unix_s, wall_s, health_.down_cause};
    const std::int64_t lasted = wall_s - *health_.down_since_unix_s;
    health_.down_since_unix_s.reset();
    if (alarmed_) said = Alarm{false, fmt::format("mqtt_available: connected again after {} s", lasted)};
    else log::info("mqtt: connected again after {} s", lasted);
  }
  alarmed_ = false;
  health_.connected_since_unix_s = wall_s;
  return said;
}

void BrokerWatch::lost(const std::string& cause, std::int64_t wall_s) {
  // A broker that comes and goes every second would write a line a second: one a minute, counted.
  log::limited("mqtt lost", log::Level::warn, fmt::format("mqtt: connection lost ({}); reconnecting", cause));
  down("connection lost: " + cause, wall_s);
}

bool BrokerWatch::bridge(const std::string& topic, const std::string& payload, std::int64_t wall_s, const std::string& only,
                         std::optional<Alarm>& said) {
  if (!topic.starts_with("$SYS/")) return false;
  std::string why;
  const auto news = bridge_state(topic, payload, wall_s, why, health_.bridges, only);
  if (!why.empty()) log::limited("uplink state", log::Level::warn, "uplink: " + why);
  if (!news) return true;
  if (news->first) {
    log::info("uplink: bridge {} is {}", news->bridge, news->connected ? "connected" : "not connected");
    if (!news->connected) said = Alarm{true, "uplink_down: bridge " + news->bridge + " is not connected"};
  } else if (news->changed) {
    // Told as events: the site's history says when its link to the fleet was down, and the
    // events of the outage reach the central broker from the bridge's queue once it is back.
    log::write(news->connected ? log::Level::info : log::Level::warn,
               fmt::format("uplink: bridge {} {}", news->bridge, news->connected ? "connected again" : "lost its connection"));
    said = Alarm{!news->connected, "uplink_" + std::string(news->connected ? "up" : "down") + ": bridge " + news->bridge +
                                       (news->connected ? " connected again" : " lost its connection")};
  }
  return true;
}

void BrokerWatch::broker_drops(const std::string& payload, bool retained, rules::SteadyTime now,
                               std::optional<Alarm>& said) {
  // mosquitto prints it "%lu": digits only. Anything else is not the broker's count (a neighbour
  // may publish on $SYS where no ACL forbids it): said, never counted.
  std::uint64_t v = 0;
  const auto* end = payload.data() + payload.size();
  const auto [at, ec] = std::from_chars(payload.data(), end, v);
  if (payload.empty() || payload.size() > 20 || ec != std::errc() || at != end) {
    log::limited("broker dropped", log::Level::warn,
                 fmt::format("mqtt: ignored '{}' on {}: not a count", drivers::text::clean_utf8(payload, 40), kBrokerDroppedTopic));
    return;
  }
  std::uint64_t rise = 0;
  const bool first = !health_.broker_dropped_total;
  if (first) {
    // Retained: the broker's figure as it stood when shackd subscribed, the base to count from.
    // Live: it changed since shackd subscribed, and its retained figure had expired (no drop for
    // a minute before): how many of it are new cannot be told.
    if (!retained) health_.broker_dropped_unknown = true;
  } else if (v >= *health_.broker_dropped_total) {
    rise = v - *health_.broker_dropped_total;
  } else {
    rise = v;  // the broker restarted: its count began again at 0
  }
  health_.broker_dropped_total = v;
  // Saturated, not wrapped: a neighbour publishing 2^64-1 and 0 in turn on $SYS is no broker, but
  // the sum it makes must still only grow (a counter: shackd_mqtt_broker_dropped_total).
  health_.broker_dropped = rise > UINT64_MAX - health_.broker_dropped ? UINT64_MAX : health_.broker_dropped + rise;
  if (rise == 0 && !(first && !retained && v > 0)) return;
  dropped_at_ = now;
  const std::string text =
      rise > 0 ? fmt::format("the broker dropped {} message(s) past its queues ({} since shackd first heard its count, "
                             "{} since it started), for all its clients together: shackd's subscriptions may be among "
                             "them (a setting, a command or a relay's state lost); the broker does not say whose. "
                             "Raise max_queued_messages, or find the client that floods it",
                             rise, health_.broker_dropped, v)
               : fmt::format("the broker has dropped messages past its queues since shackd subscribed ({} since it "
                             "started, for all its clients together; how many since shackd subscribed it cannot tell)",
                             v);
  if (dropping_) {
    log::limited("broker dropped", log::Level::warn, "mqtt: " + text);
    return;
  }
  dropping_ = true;
  log::warn("mqtt: {}", text);
  said = Alarm{true, "broker_dropping: " + text};
}

void BrokerWatch::tick(rules::SteadyTime now, std::optional<Alarm>& said) {
  if (!dropping_ || !dropped_at_ || now - *dropped_at_ < kDropQuiet) return;
  dropping_ = false;
  const std::string text = fmt::format("broker_dropping: cleared: no message dropped for {} minutes ({} since shackd "
                                       "first heard the broker's count)",
                                       kDropQuiet.count(), health_.broker_dropped);
  log::info("mqtt: {}", text);
  said = Alarm{false, text};
}

}  // namespace shackd
