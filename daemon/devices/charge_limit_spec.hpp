#pragma once
// A charge-current limit one configured device can hold at 0 A, as the loop's charge block
// writes it (daemon/loop/charge_limit.hpp); made from the device's kind (daemon/devices/registry).
#include <cstdint>
#include <string>

namespace shackd {

struct ChargeLimitSpec {
  std::string name;   // for events and logs: "dvcc", "solark_charge_limit"
  std::string label;  // for people: "DVCC max charge current (GX 2705)"
  int unit = 0;
  std::uint16_t address = 0;
  // Put back when the limit already read 0 A as the block began: that 0 is shackd's own from
  // before a crash (-1 for DVCC: no limit; the owner's max_charge_a for the Sol-Ark).
  std::int16_t restore_if_zero = -1;
};

}  // namespace shackd
