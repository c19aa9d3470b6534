#include "daemon/store/backup.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <vector>

namespace shackd {

namespace fs = std::filesystem;

std::string backup_beside(db::Db& db, int version, int keep) {
  // UTC, whatever TZ the site runs in: the names sort by time and say Z.
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  const std::string target = fmt::format("{}.bak-{:%Y%m%dT%H%M%S}Z-v{}", db.path(), utc, version);

  sqlite3* dest = nullptr;
  int rc = sqlite3_open_v2(target.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc == SQLITE_OK) {
    sqlite3_backup* b = sqlite3_backup_init(dest, "main", db.raw(), "main");
    if (b) {
      rc = sqlite3_backup_step(b, -1);
      sqlite3_backup_finish(b);
      if (rc == SQLITE_DONE) rc = SQLITE_OK;
    } else {
      rc = sqlite3_errcode(dest);
    }
  }
  const std::string why = dest ? sqlite3_errmsg(dest) : sqlite3_errstr(rc);
  sqlite3_close(dest);
  if (rc != SQLITE_OK) {
    std::error_code ignored;
    fs::remove(target, ignored);
    throw db::Error(fmt::format("database {}: backup to {} failed: {}; nothing was migrated", db.path(), target, why),
                    rc);
  }

  // Keep the newest `keep`; the names sort by time.
  const fs::path p(db.path());
  const std::string prefix = p.filename().string() + ".bak-";
  std::vector<fs::path> backups;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(p.parent_path().empty() ? "." : p.parent_path(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && name.find("-wal") == std::string::npos && name.find("-shm") == std::string::npos) {
      backups.push_back(entry.path());
    }
  }
  std::sort(backups.begin(), backups.end());
  for (std::size_t i = 0; i + static_cast<std::size_t>(std::max(keep, 1)) < backups.size(); ++i) {
    fs::remove(backups[i], ec);
    // A backup someone opened (to look at it, or shackd on a restored copy) has its WAL files
    // beside it, which SQLite keeps (db::Db sets SQLITE_FCNTL_PERSIST_WAL): they go with it.
    fs::remove(backups[i].string() + "-wal", ec);
    fs::remove(backups[i].string() + "-shm", ec);
  }
  return target;
}

}  // namespace shackd
