#pragma once
// A configured unit that answers a Modbus exception for its block: the device answers, so it is
// not "down", but the readings of that unit are missing. On a GX that is a unit id without the
// service configured for it (0x0A: dbus-modbustcp looks up a service of the register's kind at
// the unit id: docs/registers.md §1.3), which the owner must hear of once, not every poll.
#include <set>
#include <string>
#include <vector>

namespace shackd {

// Logs each exception among a poll's `errors` when it appears and says when it is gone; `told`
// holds the ones in force for this device.
void log_poll_exceptions(const std::string& device, const std::vector<std::string>& errors, std::set<std::string>& told);

}  // namespace shackd
