#pragma once
// What shackd says on MQTT, as JSON text built from the rules' decision. Missing is null, never 0;
// every measurement carries its age.
#include <cstddef>
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon/core/loop_stats.hpp"
#include "daemon/site/energy.hpp"
#include "daemon/site/loads.hpp"
#include "drivers/modbus_device.hpp"
#include "rules/decision.hpp"
#include "rules/snapshot.hpp"

namespace shackd {

// <prefix>/state (retained): battery voltage and source, the SOC estimate labelled as estimated,
// PV, load, battery power and current, temperatures, band and charge block.
std::string state_json(const rules::Snapshot& snap, const rules::Decision& d, const StoredProfiles& p);

// <prefix>/loop: the loop's own health (daemon/core/loop_stats.hpp).
std::string loop_json(const LoopStats& s);

// <prefix>/load/<id>/reason: {"code":41,"name":"below_start_voltage","text":"...", "remaining_s":...}
std::string reason_json(const rules::Reason& r);
void append_reason(std::string& out, const rules::Reason& r);

// <prefix>/load/<id>/energy, once a minute: {"day":"2026-11-23","today_kwh":12.345,"on_h":3.8,
// "basis":"rated","rated_w":3250}. today_kwh is null for a load with neither a meter nor a rating;
// basis says where the number comes from: "metered", "rated", "metered and rated" or "none".
std::string energy_json(const std::string& day, const LoadEnergy& e, double rated_w);
// Miner `i`'s voltages in force, and any other field settable over MQTT, by the miner schema
// (daemon/site/profile_fields.cpp): {"start_voltage":50.0,...}; Home Assistant's number entities read it.
std::string miner_settings_json(const StoredProfiles& p, std::size_t i);
// A site flow's day (site_flows: PV, battery in, battery out): today_kwh is null until something
// was measured, so a site without a current sensor shows "unknown" in Home Assistant, not 0.
std::string flow_energy_json(const std::string& day, const LoadEnergy& e);

// <prefix>/decision: every load's desired state and reason, once per cycle.
std::string decision_json(const rules::Decision& d, const std::vector<LoadRef>& loads);

// <prefix>/event: a transition or an alarm, stamped with the wall time it happened at, in the
// site's local time with its UTC offset ("2026-11-22T08:12:04-08:00"), when `at_unix_s` is given.
// An event's id: unique for the site and in order within a run of the daemon, so that a consumer
// of events that a bridge delivered twice (MQTT's QoS 1 is "at least once") drops the repeat and
// keeps the order: `id` is "<site>:<run>:<seq>", `run` the start of this process (Unix ms), `seq`
// 1, 2, ... within it.
struct EventId {
  std::string site;
  std::int64_t run_ms = 0;
  std::uint64_t seq = 0;
};
std::string event_json(const std::string& kind, const std::string& load_id, const rules::Reason& r,
                       const std::string& detail = "", std::optional<std::int64_t> at_unix_s = std::nullopt,
                       const EventId* id = nullptr);
// The same stamp, for events and for `status`.
std::string local_iso(std::int64_t unix_s);

// The broker connection as shackd saw it. Nothing reaches the broker while it is down, so the
// outage is told afterwards: <prefix>/health, retained, after each (re)connect.
struct MqttHealth {
  struct Outage {
    std::int64_t from_unix_s = 0, to_unix_s = 0;
    std::string cause;  // the broker's reason, or why the connection was lost
  };
  std::optional<std::int64_t> connected_since_unix_s;
  std::optional<std::int64_t> down_since_unix_s;  // while down
  std::string down_cause;
  std::optional<Outage> last_outage;
  std::uint64_t outages = 0;          // since start: connections lost or never made
  std::uint64_t failed_connects = 0;  // attempts refused or unanswered
  // The broker's bridges to a central broker (the uplink), as the broker reports them on $SYS
  // (daemon/vocab/uplink.hpp): by the bridge's client id.
  struct Bridge {
    bool connected = false;
    std::int64_t since_unix_s = 0;  // when shackd saw it connect or drop (or first saw it)
    std::uint64_t changes = 0;      // connects and drops seen since shackd started
    bool operator==(const Bridge&) const = default;
  };
  std::map<std::string, Bridge> bridges;
  // The broker's own count of the messages it dropped past its queues (mosquitto's
  // $SYS/broker/publish/messages/dropped, BrokerWatch): for all its clients together. Unset: the
  // broker has not said (sys_interval 0, an ACL, another broker).
  std::optional<std::uint64_t> broker_dropped_total;  // as the broker last said: since it started
  std::uint64_t broker_dropped = 0;  // the rise shackd heard, from the first figure it heard
  // The first figure came live, not retained (the broker's retained count expires a minute after
  // it last changed): the drops in that first rise cannot be told from the broker's older ones.
  bool broker_dropped_unknown = false;
};
// <prefix>/health: {"mqtt":{"connected":true,"connected_since":...,"last_outage":{"from":...,"to":...,
// "duration_s":...,"cause":...},"outages":1,"failed_connects":4},"devices":{"victron":"ok"},
// "store":{"queued":0,"errors":0},"uplink":{"shackd-north":{"connected":true,"since":...,"changes":1}}}
std::string site_health_json(const MqttHealth& mqtt, const std::map<std::string, bool>& devices_ok,
                             std::size_t store_queued, std::uint64_t store_errors);

// <prefix>/device/<id>/health
std::string health_json(const drivers::DeviceHealth& h, rules::SteadyTime now);

}  // namespace shackd
