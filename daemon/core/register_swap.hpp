#pragma once
// A register swap (read, write, read back) that a device's poller does on its own thread
// before its next poll: how a charge limit reaches a charger. An interface, so that the loop's
// tests can stand a recording device in for a poller.
#include <cstdint>
#include <vector>

#include "drivers/modbus_device.hpp"

namespace shackd {

struct RegisterSwap {
  int unit;
  std::uint16_t address;
  std::int16_t value;
};
struct RegisterSwapDone {
  RegisterSwap swap;
  drivers::ModbusDevice::WriteResult result;
};

class RegisterSwapper {
 public:
  virtual ~RegisterSwapper() = default;
  virtual void swap(RegisterSwap s) = 0;
  // The swaps finished since the last call.
  virtual std::vector<RegisterSwapDone> take_swaps() = 0;
};

}  // namespace shackd
