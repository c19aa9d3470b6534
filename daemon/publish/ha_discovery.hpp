#pragma once
// Home Assistant MQTT discovery: retained config payloads under
// homeassistant/<component>/<node>/<object>/config, all sharing one device block and the
// availability of <prefix>/status.
#include <string>
#include <vector>

#include "daemon/config/mqtt_settings.hpp"
#include "daemon/vocab/discovery_options.hpp"
#include "daemon/site/loads.hpp"

namespace shackd {

struct DiscoveryMessage {
  std::string topic;
  std::string payload;  // JSON; an empty payload would delete the entity
};

std::vector<DiscoveryMessage> discovery_messages(const StoredProfiles& p, const std::vector<LoadRef>& loads,
                                                 const DiscoveryOptions& o);

// "Heat Room" -> "heat_room": for object ids.
std::string slug(const std::string& s);

}  // namespace shackd
