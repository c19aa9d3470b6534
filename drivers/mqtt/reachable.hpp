#pragma once
// Whether a broker's address takes a TCP connection now, answered within a bound (issue 56).
// Paho notices a failed connect up to a second late (its receive thread polls its sockets with a
// one-second timeout, and a socket added meanwhile waits for the next round: measured 0.6-1.1 s a
// try against a broker that was away), long enough to miss a broker that is back for a second.
// The link asks this first and gives paho only an address that answers.
#include <chrono>
#include <optional>
#include <string>

namespace drivers::mqtt {

// tcp://host[:port] or ssl://host[:port] (1883 and 8883 by default), the host a name, an IPv4
// address or a bracketed IPv6 one. nullopt (and `why`) for anything else.
struct BrokerAddress {
  std::string host;
  int port = 1883;
  bool tls = false;
};
std::optional<BrokerAddress> parse_broker_uri(const std::string& uri, std::string& why);

// nullopt: it took a connection and kept it `settle` (a forwarder whose broker is away takes the
// connection and closes it at once: that is "away" too). Otherwise why not, in the owner's words.
std::optional<std::string> tcp_unreachable(const BrokerAddress& broker, std::chrono::milliseconds bound,
                                           std::chrono::milliseconds settle = std::chrono::milliseconds(30));

}  // namespace drivers::mqtt
