#pragma once
// What the relays report to the daemon's log and events: a relay that does not confirm, goes
// offline or comes back, changes by itself, or powers up ON by itself after a cut.
#include <string>

namespace drivers::mqtt {

struct RelayAlarm {
  // relay_unconfirmed | relay_offline | relay_online | relay_confirmed | relay_changed |
  // relay_power_on (it would come back ON by itself after a power cut) | relay_power_on_ok
  std::string relay;
  std::string code;
  std::string detail;
  bool raised = false;  // an alarm (true) or its end, or news (false)
};

}  // namespace drivers::mqtt
