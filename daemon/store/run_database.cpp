#include "daemon/store/run_database.hpp"

#include <filesystem>

namespace shackd {

namespace {

// A card's fault, not a wrong file: disk full, read-only, I/O. Another writer's lock is not one:
// a restart waits for it as before (75), and copying a file mid-write would copy half of it.
bool card_fault(int code) {
  const int c = code & 0xff;
  return c == SQLITE_FULL || c == SQLITE_IOERR || c == SQLITE_READONLY;
}

// One sqlite3 backup from `from` into `to`; SQLITE_OK or the error.
int copy(sqlite3* from, sqlite3* to) {
  sqlite3_backup* b = sqlite3_backup_init(to, "main", from, "main");
  if (!b) return sqlite3_errcode(to);
  int rc = sqlite3_backup_step(b, -1);
  const int finish = sqlite3_backup_finish(b);
  if (rc == SQLITE_DONE) rc = finish;
  return rc;
}

RunDatabase in_memory(const std::string& path, const std::vector<Migration>& migrations, const std::string& why) {
  RunDatabase r;
  r.in_memory_because = why;
  r.db = std::make_unique<db::Db>(":memory:", db::OpenOptions{.create = true});
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && std::filesystem::file_size(path, ec) > 0) {
    // Read only: the copy takes nothing from the card.
    try {
      db::Db file(path, {.read_only = true});
      if (copy(file.raw(), r.db->raw()) == SQLITE_OK) r.copied_from_file = true;
    } catch (const db::Error&) {
      // Unreadable too: a new database, as at a first start.
    }
    if (!r.copied_from_file) {
      r.db = std::make_unique<db::Db>(":memory:", db::OpenOptions{.create = true});
      r.file_unread = true;
    }
  }
  // No backup beside ":memory:" (it would be a file named so in the working directory).
  r.migrated = migrate(*r.db, migrations, {.dry_run = false, .keep_backups = 0, .backup = false});
  return r;
}

}  // namespace

RunDatabase open_run_database(const std::string& path, const std::vector<Migration>& migrations) {
  std::string why;
  try {
    RunDatabase r;
    r.db = std::make_unique<db::Db>(path, db::OpenOptions{.create = true});
    r.migrated = migrate(*r.db, migrations);
    return r;
  } catch (const MigrationError& e) {
    if (!e.temporary()) throw;
    why = e.what();
  } catch (const db::Error& e) {
    if (!card_fault(e.code())) throw;
    why = e.what();
  }
  return in_memory(path, migrations, why);
}

bool write_back(db::Db& memory, const std::string& path, std::string& why) {
  sqlite3* file = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(file, 2000);
    rc = copy(memory.raw(), file);
  }
  why = rc == SQLITE_OK ? "" : (file ? sqlite3_errmsg(file) : sqlite3_errstr(rc));
  sqlite3_close(file);
  return rc == SQLITE_OK;
}

}  // namespace shackd
