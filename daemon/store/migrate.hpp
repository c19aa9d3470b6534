#pragma once
// The migration runner: schema/NNNN_name.sql files applied in order, each in its own
// transaction, recorded with their SHA-256 in schema_migrations and in PRAGMA user_version.
#include <optional>
#include <string>
#include <vector>

#include "daemon/store/sqlite.hpp"

namespace shackd {

struct Migration {
  int version = 0;       // NNNN
  std::string name;      // file name
  std::string sql;
  std::string sha256;
};

// The migrations built into this binary.
std::vector<Migration> embedded_migrations();
// Every *.sql in `dir` (for tests and for trying a migration before building it in). Throws
// std::runtime_error when the directory cannot be read.
std::vector<Migration> migrations_from_dir(const std::string& dir);

// Problems with the set itself: names not NNNN_name.sql, two files sharing a number, gaps or
// numbers out of order, and statements a migration must not run (BEGIN, COMMIT, VACUUM,
// PRAGMA journal_mode / foreign_keys).
std::vector<std::string> check_migration_set(const std::vector<Migration>& set);
// The first such statement in `code` (SQL upper-cased, its comments and strings blanked, as the
// check reads it), as written there; nullopt: none. What it finds:
// BEGIN [DEFERRED|IMMEDIATE|EXCLUSIVE] [TRANSACTION] ;  COMMIT  END TRANSACTION  VACUUM
// PRAGMA JOURNAL_MODE  PRAGMA FOREIGN_KEYS (each a whole word; a trigger's BEGIN ... END is not).
std::optional<std::string> forbidden_statement(const std::string& code);

struct MigrationPlan {
  int db_version = 0;                    // PRAGMA user_version
  int known_version = 0;                 // the newest migration in the set
  std::vector<const Migration*> pending;
  std::vector<std::string> problems;     // any problem refuses the whole run; each says what to do
};
MigrationPlan plan_migrations(db::Db& db, const std::vector<Migration>& set);

struct MigrateOptions {
  bool dry_run = false;
  int keep_backups = 3;  // backups taken before migrating a database that holds data
  bool backup = true;    // false: none (a database in memory, daemon/store/run_database.hpp)
};

struct MigrateResult {
  MigrationPlan plan;
  std::vector<int> applied;
  std::optional<std::string> backup_path;
};

class MigrationError : public std::runtime_error {
 public:
  explicit MigrationError(const std::string& what, bool temporary = false)
      : std::runtime_error(what), temporary_(temporary) {}
  // The migration failed for a cause a restart may get past (disk full, I/O): db::Error::temporary.
  bool temporary() const { return temporary_; }

 private:
  bool temporary_;
};

// Refuses (MigrationError, one line per problem) when the plan has problems. A migration that
// fails is rolled back and leaves the database exactly as it was before that migration.
MigrateResult migrate(db::Db& db, const std::vector<Migration>& set, const MigrateOptions& options = {});

// Refuses to start unless the database is exactly at the set's newest version with nothing
// edited: what `shackd run` checks before it touches anything.
void require_current(db::Db& db, const std::vector<Migration>& set);

// What the database's schema lacks or holds beyond what `set`'s migrations up to its own version
// make (a table dropped or changed by hand, issue 48: `db check` passed with one gone): one line
// each, naming the object; empty when they are the same. The migrations are run in memory.
std::vector<std::string> schema_differences(db::Db& db, const std::vector<Migration>& set);

}  // namespace shackd
