#pragma once
// One cycle as the core hands it to the publisher (daemon/publish/publisher.hpp), the uplink's state (daemon/vocab/uplink.hpp): values, not
// references into the core's state, so that the core copies them and goes on while the
// publisher's thread renders and sends them (issue 44: the loop's thread renders no JSON for the
// state, Home Assistant or the uplink). Immutable once handed over.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/core/loop_stats.hpp"
#include "daemon/devices/device_alarms.hpp"
#include "daemon/vocab/discovery_options.hpp"
#include "daemon/vocab/publish.hpp"
#include "daemon/site/energy.hpp"
#include "daemon/site/loads.hpp"
#include "daemon/site/profiles.hpp"
#include "daemon/system/host_health.hpp"
#include "drivers/modbus_device.hpp"
#include "drivers/mqtt/power_on_watch.hpp"
#include "drivers/mqtt/relay_protocol.hpp"
#include "rules/decision.hpp"
#include "rules/snapshot.hpp"

namespace shackd {

// What the publisher says of one load's relay: what the device reported, and how it powers up.
struct RelayFacts {
  std::optional<bool> observed;
  std::optional<drivers::mqtt::RelayConfig> config;  // set: the relay manager switches it
  drivers::mqtt::PowerOnStatus power_on;
};

struct CycleFacts {
  std::string prefix;  // mqtt.prefix in force
  rules::SteadyTime now{};
  std::int64_t wall_s = 0;
  rules::Snapshot snap;
  rules::Decision decision;
  rules::State state;
  StoredProfiles profiles;
  std::vector<LoadRef> loads;
  bool relays = false;                      // MQTT's relay manager runs: `relay` is what it knows
  std::map<std::string, RelayFacts> relay;  // by relay id
  std::string energy_day;                   // empty: no trusted date yet
  std::map<std::string, LoadEnergy> energy;  // today's, by load state key and site flow
  std::vector<std::pair<std::string, drivers::DeviceHealth>> devices;  // in poll order
  MqttHealth mqtt;
  LoopStats loop;
  DeviceAlarmWatch device_alarms;
  std::optional<HostHealth> host;  // the controller's own health, when it has anything to say
  // The uplink (daemon/vocab/uplink.hpp): <prefix>/site/<site id>/state at its own pace.
  struct Uplink {
    bool enabled = false;
    std::chrono::seconds state_interval{60};
    std::string site_id, site_name;
  } uplink;
  // Everything again (a start, a reconnect, a reload, Home Assistant's restart), with Home
  // Assistant's discovery when it is on.
  bool everything = false;
  std::optional<DiscoveryOptions> discovery;
};

}  // namespace shackd
