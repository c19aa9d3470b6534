#pragma once
// One cycle as the loop hands it to the publisher (daemon/publish/publisher.hpp) and the uplink's
// state (daemon/vocab/uplink.hpp): the sealed record and values, never references into the
// loop's state, so that the loop goes on while the publisher's thread renders and sends them
// (issue 44: the loop's thread renders no JSON for the state, Home Assistant or the uplink).
// Immutable once handed over.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/core/cycle_record.hpp"
#include "daemon/devices/device_alarms.hpp"
#include "daemon/vocab/discovery_options.hpp"
#include "daemon/vocab/publish.hpp"
#include "daemon/site/energy.hpp"
#include "daemon/system/host_health.hpp"

namespace shackd {

// One cycle for the publisher: the cycle's record (daemon/core/cycle_record.hpp), shared, and
// what the publisher alone says beside it (the energy, the broker, the host, the uplink's and
// discovery's words).
struct CycleFacts {
  std::string prefix;  // mqtt.prefix in force
  CycleRecordPtr record;
  std::string energy_day;                   // empty: no trusted date yet
  std::map<std::string, LoadEnergy> energy;  // today's, by load state key and site flow
  MqttHealth mqtt;
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
