#pragma once
#include <string>

#include "daemon/store/sqlite.hpp"

namespace shackd {

// An online copy of `db` beside it (the sqlite3 backup API: consistent while others read),
// named <db>.bak-<UTC time>-v<version>, keeping the newest `keep` such copies. Returns its path.
std::string backup_beside(db::Db& db, int version, int keep);

}  // namespace shackd
