#pragma once
// The database opened, migrated and read on the opener's thread at the start (issue 44, item 4):
// the profiles and the site they make, the loads' rows, the site's id, the charge limits' rows.
// It reads nothing of the running daemon; the loop takes what it made whole (Daemon::take_store).
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "daemon/config/config.hpp"
#include "daemon/loop/site_build.hpp"
#include "daemon/store/ac_overload_rows.hpp"
#include "daemon/store/charge_limit_rows.hpp"
#include "daemon/store/last_run.hpp"
#include "daemon/store/run_database.hpp"
#include "daemon/store/runtime_store.hpp"
#include "daemon/store/site_identity.hpp"

namespace shackd {

struct OpenedStore {
  std::optional<int> exit_code;  // set: it could not be opened or read; the start ends with it
  RunDatabase run;
  std::optional<std::pair<dev_t, ino_t>> file;  // the file as opened (not in memory)
  SiteLoad loaded;
  std::unique_ptr<RuntimeStore> store;  // after `run`: destroyed before the database it uses
  SiteIdentity id;
  std::map<std::string, LoadStateRow> rows;
  LastRun last_run;  // what the last run left: its last record, a clean stop, its host boot
  std::map<std::string, ChargeLimitRow> charge_rows;
  std::string charge_failed;  // why the charge limits' rows could not be read
  AcOverloadRows ac_overloads;  // each AC source's phase's last overload (issue 59)
  std::string ac_overload_failed;  // why they could not be read
};

// `read_charge_limits`: a run that writes them (not a dry run, not `once`). Its log lines are the
// start's; its exit codes start()'s (78, 75, 65).
OpenedStore open_store(const Config& config, std::int64_t wall_s, bool read_charge_limits);

}  // namespace shackd
