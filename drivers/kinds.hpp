#pragma once
// The device kinds shackd knows: one line each in drivers/kinds.cpp. A devices: section names
// one of these as its kind:; devices are polled in this order (a kind's in the config's), which
// is also the order of their offers of equal rank.
#include <span>
#include <string_view>

#include "drivers/device_kind.hpp"

namespace drivers {

using Kinds = std::span<const DeviceKind* const>;

Kinds builtin_kinds();
const DeviceKind* find_kind(Kinds kinds, std::string_view key);

}  // namespace drivers
