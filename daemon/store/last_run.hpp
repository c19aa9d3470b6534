#pragma once
// What the database says of shackd's last run, for the start's judgement of a power cut (issue
// 56; drivers/mqtt/relays.hpp): the last moment anything of that run was recorded, and whether it
// ended with its own "stopped" (a clean stop) or was cut short (a crash, a kill, a power cut).
#include <cstdint>
#include <optional>
#include <string>

#include "daemon/store/sqlite.hpp"

namespace shackd {

struct LastRun {
  // The last instant the run is known alive: its newest event, load state, telemetry minute or
  // journal minute (the minutes' ends). Telemetry and journal are written every few minutes
  // (kTelemetryEverySDefault) and a power cut may take the last seconds of the WAL: the run may
  // have lived minutes longer.
  std::optional<std::int64_t> last_record_s;
  bool stopped_cleanly = false;  // its last lifecycle event is "stopped"
  std::optional<std::string> boot_id;  // the host's boot it started on (host_boot)
};

LastRun read_last_run(db::Db& db);
// This start's host boot, for the next start's judgement.
void write_host_boot(db::Db& db, const std::string& boot_id, std::int64_t wall_s);

}  // namespace shackd
