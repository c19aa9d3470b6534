#pragma once
// <prefix>/load/<id>/miner (retained): what a miner says of itself, as it arrives. The fleet
// (daemon/miners/fleet.hpp) hands these values over; the publisher's thread renders them
// (daemon/publish/publisher.hpp), in order with the other messages: the loop's thread renders no
// JSON for MQTT (issue 44).
#include <optional>
#include <string>

#include "drivers/miners/miner_api.hpp"
#include "rules/reason.hpp"

namespace shackd {

struct MinerStateFacts {
  drivers::miners::Telemetry telemetry;  // its newest read that answered
  std::optional<double> temp_limit_c;    // the owner's overheat_c, else its own "hot"
  std::optional<double> target_w;        // its power target as the rules want it; nullopt: none
  rules::Reason target_reason;           // why (with target_w only)
};

std::string miner_state_json(const MinerStateFacts& m);

}  // namespace shackd
