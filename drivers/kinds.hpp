#pragma once
// The device kinds shackd knows: one line each in drivers/kinds.cpp. The config reads the
// sections devices.<key> of these, in this order (the order of the devices' polls, and of their
// offers of equal rank).
#include <span>
#include <string_view>

#include "drivers/device_kind.hpp"

namespace drivers {

using Kinds = std::span<const DeviceKind* const>;

Kinds builtin_kinds();
const DeviceKind* find_kind(Kinds kinds, std::string_view key);

}  // namespace drivers
