#pragma once
// What Home Assistant's discovery is to announce (daemon/publish/ha_discovery.hpp), as the loop
// hands it over in a cycle's facts (daemon/vocab/cycle_facts.hpp): here, so that the facts name
// no part of the publisher.
#include <string>
#include <vector>

#include "daemon/config/mqtt_settings.hpp"

namespace shackd {

struct DiscoveryOptions {
  std::string prefix = "shack";                 // shackd's own topics
  std::string discovery_prefix = "homeassistant";
  std::string node_id = "shackd";               // [a-zA-Z0-9_-]
  std::string site_name = "Solar Shack";
  std::string version;
  // Measured sensors expire in Home Assistant when shackd stops publishing for this long, so
  // values from a dead daemon do not look current (its electrical stale limit).
  int expire_after_s = 30;
  std::vector<std::string> devices;  // polled devices: a health entity each
  std::vector<OfferedSetting> settings;  // mqtt.allow_settings: a number entity each
  // Miners with an API: their own word (<prefix>/load/<id>/miner) as sensors, expiring after
  // this many seconds without a read (three polls): a miner whose power is cut says nothing.
  struct Miner {
    std::string load_id;
    std::string name;
    int expire_after_s = 30;
  };
  std::vector<Miner> miners;
  // The controller's own health (<prefix>/host): an entity for each thing the machine says
  // (a Raspberry Pi's flags and temperature, an eMMC's wear; a PC only this process's writes).
  struct Host {
    bool flags = false, temperature = false, storage = false, writes = false;
  };
  Host host{};
  // Shadow mode (issue 60): an entity saying shackd switches nothing (<prefix>/shadow) and, per
  // load, whether its decision and the site differ (<prefix>/shadow/<id>). Announced only then.
  bool shadow = false;
  // A candidate profile (issue 60, part 2): an entity saying one runs (<prefix>/candidate) and,
  // per load, whether it and the profiles in force differ (<prefix>/candidate/<id>).
  bool candidate = false;
};

}  // namespace shackd
