#pragma once
// The broker's address in mqtt.uri: tcp://host[:port] or ssl://host[:port] (1883 and 8883 by
// default), the host a name, an IPv4 address or a bracketed IPv6 one.
#include <optional>
#include <string>

namespace drivers::mqtt {

struct BrokerAddress {
  std::string host;
  int port = 1883;
  bool tls = false;
};
// nullopt (and `why`, naming the uri and the rule) for anything else.
std::optional<BrokerAddress> parse_broker_uri(const std::string& uri, std::string& why);

}  // namespace drivers::mqtt
