#pragma once
// `shackd probe --miner HOST`: which firmware answers at a host, asked in each kind's own
// protocol on its own port (or the one given), read-only: telemetry and, where the firmware has
// one, its power target range.
#include <chrono>
#include <optional>
#include <string>

#include "drivers/miners/miner_kind.hpp"

namespace drivers::miners {

struct Identified {
  const MinerKind* kind = nullptr;  // nullptr: nothing answered
  int port = 0;
  Telemetry telemetry;                       // answered unless it asked for a password
  std::optional<MinerApi::PowerRange> range;  // its power targets, where it takes one
  bool needs_password = false;               // it answered, but refused us without the right one
  std::string tried;                         // what each kind said, for "nothing answered"
};

// `port` 0: each kind's own. `password`: for a firmware whose reads need a login (Braiins OS).
Identified identify_miner(const std::string& host, int port, const std::string& password, std::chrono::milliseconds timeout);

}  // namespace drivers::miners
