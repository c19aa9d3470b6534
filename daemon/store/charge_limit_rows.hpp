#pragma once
// Table charge_limits (schema 0006): which charger limits the charge block holds at 0 A, and
// what to put back. Written at once (a block begins or ends a few times a winter), not queued:
// after a crash it is what says a 0 A found on the device is shackd's own.
#include <cstdint>
#include <map>
#include <string>

#include "daemon/store/sqlite.hpp"

namespace shackd {

struct ChargeLimitRow {
  bool applied = false;     // shackd wrote 0 A and has not put the value back
  std::int16_t saved = -1;  // the value to put back
};

std::map<std::string, ChargeLimitRow> load_charge_limits(db::Db& db);
// Throws db::Error.
void save_charge_limit(db::Db& db, const std::string& name, const ChargeLimitRow& row, std::int64_t unix_now);

}  // namespace shackd
