#pragma once
// Relays that would switch their loads back ON by themselves after a power cut: what `status`
// says of them (from what the daemon published), what `check --broker` asks each relay, and
// `shackd relays power-on-off`, which sets them to stay OFF with the owner's consent and asks again
// to confirm (docs/protocols.md §1.6, the guide's "After a power cut").
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "daemon/config/config.hpp"
#include "drivers/mqtt/power_on_watch.hpp"

namespace shackd {

// `status`'s lines for one load, from <prefix>/load/<id>/power_on as the daemon published it:
// a WARNING for a relay that comes back ON (or may), a note for one that cannot say; nothing
// for one that stays OFF, or for a payload that is not such a document.
std::vector<std::string> power_on_status_lines(const std::string& load_name, const std::string& id,
                                               const std::string& payload);

// Each relay of the config asked over the broker, on a connection of its own, bounded by `wait`
// (a relay that does not answer in time is unanswered); with `set_off`, each one that can be set
// is set to stay OFF first, then asked again.
struct PowerOnSurvey {
  bool broker_reached = false;
  std::string broker_failure;
  std::map<std::string, drivers::mqtt::PowerOnStatus> relays;  // by relay id
};
PowerOnSurvey survey_power_on(const Config& cfg, const std::vector<std::string>& ids, bool set_off,
                              std::chrono::milliseconds wait);

// `check --broker`'s lines: one per relay, "warning: ..." for each that comes back ON.
std::vector<std::string> power_on_check_lines(const Config& cfg, const PowerOnSurvey& survey);

// shackd relays power-on-off [--config FILE] [--relay ID]... [--yes] [--wait-s N]
int cmd_relays(const std::vector<std::string>& argv);

}  // namespace shackd
