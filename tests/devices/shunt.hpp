#pragma once
// A test-only device kind: a battery shunt on Modbus TCP. It exists to prove that a new voltage
// source is one kind file, one registry line, one fixture and one test (docs/development.md).
#include "drivers/device_kind.hpp"

namespace test::shunt {

const drivers::Table& table();
const drivers::DeviceKind& kind();  // devices.shunt

}  // namespace test::shunt
