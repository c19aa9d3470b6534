#pragma once
// The database `shackd run` controls with. A card that cannot take a write (full, read-only, an
// I/O error) at a first start or at an upgrade used to end the start with 75 at every try: with
// RestartSec=5 and the unit's start limit (10 in 300 s) systemd gave up after about a minute and
// the site stayed uncontrolled until someone came (issue 48). Now the site is controlled all the
// same, on a copy in memory: the file's own contents where it can be read (an upgrade: its
// profiles, the loads' states and the day's energy, migrated in memory), a new database where
// there is none. What is recorded meanwhile is written back to the file at the stop when the card
// has room again (write_back), else lost; the owner is told at the start and at the stop.
#include <memory>
#include <optional>
#include <string>

#include "daemon/store/migrate.hpp"
#include "daemon/store/sqlite.hpp"

namespace shackd {

struct RunDatabase {
  std::unique_ptr<db::Db> db;
  MigrateResult migrated;
  // Set: the file could not be used, and why (SQLite's words); `db` is a copy in memory.
  std::optional<std::string> in_memory_because;
  bool copied_from_file = false;  // in memory: what the file held is in it (else a new database)
  // In memory without the file's data (it held some, and could not be read): writing this run's
  // database over it would replace its history with this run alone, so it is never written back.
  bool file_unread = false;
};

// Opens and migrates `path`. A failure a card causes (db::Error::temporary or MigrationError::
// temporary, a lock by another writer aside) gives a database in memory instead; any other one
// throws as before (db::Error, MigrationError).
RunDatabase open_run_database(const std::string& path, const std::vector<Migration>& migrations);

// Writes a database in memory over the file at `path` (the sqlite3 backup API: one transaction on
// the file, rolled back whole if the card is still full). False, with SQLite's words, when it
// could not; the file is then as it was.
bool write_back(db::Db& memory, const std::string& path, std::string& why);

}  // namespace shackd
