#include "drivers/mqtt/broker_uri.hpp"

namespace drivers::mqtt {

std::optional<BrokerAddress> parse_broker_uri(const std::string& uri, std::string& why) {
  BrokerAddress b;
  if (uri.rfind("ssl://", 0) == 0) b.tls = true;
  else if (uri.rfind("tcp://", 0) != 0) {
    why = "mqtt: uri '" + uri + "' must start with tcp:// or ssl://";
    return std::nullopt;
  }
  std::string rest = uri.substr(6);
  if (const auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  std::string port = b.tls ? "8883" : "1883";
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string::npos) {
      why = "mqtt: uri '" + uri + "': a bracketed IPv6 address without its ']'";
      return std::nullopt;
    }
    b.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
    b.host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  } else {
    b.host = rest;
  }
  if (b.host.empty() || port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) < 1 || std::stoi(port) > 65535) {
    why = "mqtt: uri '" + uri + "' needs a host and a port of 1 to 65535";
    return std::nullopt;
  }
  b.port = std::stoi(port);
  return b;
}

}  // namespace drivers::mqtt
