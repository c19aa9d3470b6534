// The migration runner against real SQLite files.
#include "tests/store/fixture.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <regex>
#include <string>
#include <vector>

#include "daemon/store/run_database.hpp"

using shackd::MigrationError;
using shackd::migrate;

namespace {
std::string schema_dump(shackd::db::Db& db) {
  std::string out;
  for (auto s = db.prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY name"); s.step();) {
    out += s.text(0) + " " + s.text(1) + " " + s.text(2) + "\n";
  }
  out += "user_version " + std::to_string(db.scalar_int("PRAGMA user_version")) + "\n";
  if (db.table_exists("schema_migrations")) {
    for (auto s = db.prepare("SELECT version, name, sha256 FROM schema_migrations ORDER BY version"); s.step();) {
      out += s.text(1) + " " + s.text(2) + "\n";
    }
  }
  return out;
}
// The repository's newest schema version, and the file name of a migration `ahead` past it, so
// that these tests do not change with every new migration.
int latest() { return static_cast<int>(shackd::embedded_migrations().size()); }
std::string ahead(int by, const std::string& words) { return fmt::format("{:04}_{}.sql", latest() + by, words); }

int backups_in(const test::TempDir& dir) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path)) {
    const std::string name = e.path().filename().string();
    n += name.find(".bak-") != std::string::npos && !name.ends_with("-wal") && !name.ends_with("-shm");
  }
  return n;
}
}  // namespace

TEST_CASE("a fresh database migrates fully and records each file") {
  test::TempDir dir;
  shackd::db::Db db(dir.file("a.db"), {.create = true});
  const auto set = shackd::embedded_migrations();
  REQUIRE(set.size() >= 3);
  const auto r = migrate(db, set);
  CHECK(r.plan.db_version == 0);
  CHECK(r.applied.size() == set.size());
  CHECK_FALSE(r.backup_path);  // nothing to back up in an empty file
  CHECK(db.scalar_int("PRAGMA user_version") == set.back().version);
  int rows = 0;
  for (auto s = db.prepare("SELECT version, name, sha256 FROM schema_migrations ORDER BY version"); s.step(); ++rows) {
    CHECK(s.integer(0) == set[static_cast<std::size_t>(rows)].version);
    CHECK(s.text(1) == set[static_cast<std::size_t>(rows)].name);
    CHECK(s.text(2) == set[static_cast<std::size_t>(rows)].sha256);
    CHECK(s.text(2).size() == 64);
  }
  CHECK(rows == static_cast<int>(set.size()));
  auto mode = db.prepare("PRAGMA journal_mode");
  REQUIRE(mode.step());
  CHECK(mode.text(0) == "wal");
  CHECK(db.scalar_int("PRAGMA foreign_keys") == 1);
  CHECK(db.scalar_int("PRAGMA synchronous") == 1);  // NORMAL
}

TEST_CASE("running it again is a no-op: no writes, no backup") {
  test::MigratedDb m;
  const std::string before = schema_dump(m.db);
  const auto r = migrate(m.db, shackd::embedded_migrations());
  CHECK(r.applied.empty());
  CHECK(r.plan.pending.empty());
  CHECK_FALSE(r.backup_path);
  CHECK(schema_dump(m.db) == before);
  CHECK(backups_in(m.dir) == 0);
}

TEST_CASE("an edited migration is refused and changes nothing") {
  test::TempDir dir;
  test::copy_schema(dir);
  shackd::db::Db db(dir.file("a.db"), {.create = true});
  migrate(db, shackd::migrations_from_dir(dir.path.string()));
  const std::string before = schema_dump(db);

  auto set = shackd::migrations_from_dir(dir.path.string());
  dir.write(set[1].name, set[1].sql + "\n-- a harmless-looking edit\n");
  dir.write("0004_more.sql", "CREATE TABLE more (x INTEGER) STRICT;\n");
  set = shackd::migrations_from_dir(dir.path.string());
  try {
    migrate(db, set);
    FAIL("an edited migration was accepted");
  } catch (const MigrationError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("migration 0002_solar_shack_defaults.sql was applied with sha256") != std::string::npos);
    CHECK(msg.find("Restore the original file and put the change in a new migration") != std::string::npos);
  }
  CHECK(schema_dump(db) == before);
  CHECK_FALSE(db.table_exists("more"));
  CHECK_THROWS_AS(shackd::require_current(db, set), MigrationError);
}

TEST_CASE("two files sharing a number, or a gap in the numbers, are refused") {
  test::TempDir dir;
  test::copy_schema(dir);
  shackd::db::Db db(dir.file("a.db"), {.create = true});

  SUBCASE("duplicate") {
    dir.write("0003_other.sql", "CREATE TABLE other (x INTEGER) STRICT;\n");
    const auto problems = shackd::check_migration_set(shackd::migrations_from_dir(dir.path.string()));
    REQUIRE(problems.size() == 1);
    CHECK(problems[0] == "migration files 0003_other.sql and 0003_runtime.sql share the number 0003: give each its own number");
  }
  SUBCASE("gap") {
    dir.write(ahead(2, "later"), "CREATE TABLE later (x INTEGER) STRICT;\n");
    const auto problems = shackd::check_migration_set(shackd::migrations_from_dir(dir.path.string()));
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].find(fmt::format("{} has number {:04}, but the next number expected is {:04}", ahead(2, "later"),
                                       latest() + 2, latest() + 1)) != std::string::npos);
  }
  SUBCASE("a bad file name") {
    dir.write("4_later.sql", "CREATE TABLE later (x INTEGER) STRICT;\n");
    const auto problems = shackd::check_migration_set(shackd::migrations_from_dir(dir.path.string()));
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].find("4_later.sql: the name must be NNNN_words.sql") != std::string::npos);
  }
  SUBCASE("a file that manages its own transaction") {
    dir.write("0004_tx.sql", "BEGIN;\nCREATE TABLE t (x INTEGER) STRICT;\nCOMMIT;\n");
    const auto problems = shackd::check_migration_set(shackd::migrations_from_dir(dir.path.string()));
    REQUIRE_FALSE(problems.empty());
    CHECK(problems[0].find("0004_tx.sql: it contains 'BEGIN;'") != std::string::npos);
  }
  // Whatever the problem, nothing is applied.
  CHECK_THROWS_AS(migrate(db, shackd::migrations_from_dir(dir.path.string())), MigrationError);
  CHECK(db.scalar_int("PRAGMA user_version") == 0);
  CHECK_FALSE(db.table_exists("site_preferences"));
}

TEST_CASE("trigger bodies (BEGIN ... END) are not mistaken for transactions") {
  CHECK(shackd::check_migration_set(shackd::embedded_migrations()).empty());
}

TEST_CASE("a database newer than the binary is refused") {
  test::MigratedDb m;
  auto older = shackd::embedded_migrations();
  older.pop_back();
  try {
    migrate(m.db, older);
    FAIL("a newer database was accepted");
  } catch (const MigrationError& e) {
    CHECK(std::string(e.what()).find(fmt::format("is at schema version {}, but this shackd knows migrations only up to {}",
                                                 latest(), latest() - 1)) != std::string::npos);
  }
}

TEST_CASE("a bad SQL file fails and leaves the database exactly as it was") {
  test::TempDir dir;
  test::copy_schema(dir);
  shackd::db::Db db(dir.file("a.db"), {.create = true});
  migrate(db, shackd::migrations_from_dir(dir.path.string()));
  const std::string before = schema_dump(db);
  const auto miners_before = db.scalar_int("SELECT count(*) FROM miner_profiles");

  // The first statements are fine; the last one is not. All of it must go.
  dir.write(ahead(1, "broken"),
            "CREATE TABLE half_done (x INTEGER) STRICT;\n"
            "INSERT INTO miner_profiles (name, power_w, priority, start_voltage, stop_voltage, emergency_stop_voltage)\n"
            "  VALUES ('ghost', 100, 5, 52, 50, 48);\n"
            "CREATE TABLEX oops (x);\n");
  try {
    migrate(db, shackd::migrations_from_dir(dir.path.string()));
    FAIL("a broken migration was applied");
  } catch (const MigrationError& e) {
    const std::string msg = e.what();
    CHECK(msg.find(fmt::format("migration {} failed, so it was rolled back and the database stays at version {}",
                               ahead(1, "broken"), latest())) != std::string::npos);
    CHECK(msg.find("syntax error") != std::string::npos);
  }
  CHECK_FALSE(db.in_transaction());
  CHECK(schema_dump(db) == before);
  CHECK_FALSE(db.table_exists("half_done"));
  CHECK(db.scalar_int("SELECT count(*) FROM miner_profiles") == miners_before);
}

TEST_CASE("a database that holds data is backed up before it migrates; the newest N are kept") {
  test::TempDir dir;
  test::copy_schema(dir);
  const std::string path = dir.file("a.db");
  shackd::db::Db db(path, {.create = true});
  migrate(db, shackd::migrations_from_dir(dir.path.string()));
  CHECK(backups_in(dir) == 0);

  dir.write(ahead(1, "extra"), "CREATE TABLE extra (x INTEGER) STRICT;\n");
  const auto r = migrate(db, shackd::migrations_from_dir(dir.path.string()), {.dry_run = false, .keep_backups = 2});
  REQUIRE(r.backup_path);
  CHECK(r.backup_path->find("a.db.bak-") != std::string::npos);
  CHECK(r.backup_path->ends_with(fmt::format("-v{}", latest())));
  {
    shackd::db::Db copy(*r.backup_path);
    CHECK(copy.scalar_int("PRAGMA user_version") == latest());
    CHECK(copy.scalar_int("SELECT count(*) FROM miner_profiles") == 2);
    CHECK_FALSE(copy.table_exists("extra"));
  }
  const std::string first_backup = *r.backup_path;
  CHECK(std::filesystem::exists(first_backup + "-shm"));  // opening it left them
  dir.write(ahead(2, "extra"), "CREATE TABLE extra6 (x INTEGER) STRICT;\n");
  migrate(db, shackd::migrations_from_dir(dir.path.string()), {.dry_run = false, .keep_backups = 2});
  dir.write(ahead(3, "extra"), "CREATE TABLE extra7 (x INTEGER) STRICT;\n");
  migrate(db, shackd::migrations_from_dir(dir.path.string()), {.dry_run = false, .keep_backups = 2});
  CHECK(backups_in(dir) == 2);
  // The first one, opened above, went with the WAL files its opening left beside it.
  CHECK_FALSE(std::filesystem::exists(first_backup));
  CHECK_FALSE(std::filesystem::exists(first_backup + "-wal"));
  CHECK_FALSE(std::filesystem::exists(first_backup + "-shm"));
}

TEST_CASE("--dry-run lists the pending migrations and changes nothing") {
  test::TempDir dir;
  shackd::db::Db db(dir.file("a.db"), {.create = true});
  const auto r = migrate(db, shackd::embedded_migrations(), {.dry_run = true, .keep_backups = 3});
  CHECK(r.plan.pending.size() == shackd::embedded_migrations().size());
  CHECK(r.applied.empty());
  CHECK(db.scalar_int("PRAGMA user_version") == 0);
}

TEST_CASE("a file that is not a database gets a clear error") {
  test::TempDir dir;
  dir.write("junk.db", std::string(4096, 'x'));
  try {
    shackd::db::Db db(dir.file("junk.db"));
    db.scalar_int("PRAGMA user_version");
    FAIL("garbage was read as a database");
  } catch (const shackd::db::Error& e) {
    CHECK(std::string(e.what()).find("junk.db") != std::string::npos);
    CHECK(std::string(e.what()).find("not a database") != std::string::npos);
  }
}

TEST_CASE("a missing database is not created by commands that only read it") {
  test::TempDir dir;
  try {
    shackd::db::Db db(dir.file("missing.db"));
    FAIL("a missing database was opened");
  } catch (const shackd::db::Error& e) {
    CHECK(std::string(e.what()).find("shackd migrate --db") != std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(dir.file("missing.db")));
}

// Issue 48: a card that cannot take a write at a start runs the site on a copy in memory
// (tests/cli/run_faults.sh runs that as a process); at the stop the copy is written over the file
// when the card has room again.
TEST_CASE("a database in memory is written over the file, whole, and a good file is used as it is") {
  test::TempDir dir;
  const std::string path = dir.file("shackd.db");
  const auto set = shackd::embedded_migrations();
  {
    shackd::db::Db old(path, {.create = true});
    migrate(old, std::vector<shackd::Migration>(set.begin(), set.end() - 1));  // a version behind
  }
  shackd::db::Db memory(":memory:", {.create = true});
  migrate(memory, set, {.dry_run = false, .keep_backups = 0, .backup = false});
  memory.exec("INSERT INTO events (at, kind, reason_code, reason, detail) VALUES ('2026-11-26T00:00:00Z', 'alarm', 0, "
              "'none', 'recorded in memory')");
  std::string why;
  REQUIRE_MESSAGE(shackd::write_back(memory, path, why), why);
  {
    shackd::db::Db file(path);
    CHECK(file.scalar_int("PRAGMA user_version") == set.back().version);
    CHECK(file.scalar_int("SELECT count(*) FROM events WHERE detail = 'recorded in memory'") == 1);
    CHECK(file.prepare("PRAGMA integrity_check").step());
  }
  const auto run = shackd::open_run_database(path, set);
  CHECK_FALSE(run.in_memory_because);
  CHECK(run.db->path() == path);
  // A file that is not a database is not a card's fault: said, not hidden in memory.
  dir.write("junk.db", std::string(8192, 'x'));
  CHECK_THROWS_AS(shackd::open_run_database(dir.file("junk.db"), set), shackd::db::Error);
}

TEST_CASE("forbidden statements: the scan finds what the regex it replaced found, where it found it") {
  // The oracle: the std::regex the check used until 2026-11-28 (too slow for every start: about
  // 107 million instructions over the embedded set). Each text is as the check reads it (upper
  // case, comments and strings blanked).
  static const std::regex oracle(
      R"(\bBEGIN\s*(DEFERRED|IMMEDIATE|EXCLUSIVE)?\s*(TRANSACTION)?\s*;|\bCOMMIT\b|\bEND\s+TRANSACTION\b|\bVACUUM\b|\bPRAGMA\s+(JOURNAL_MODE|FOREIGN_KEYS)\b)");
  std::vector<std::string> texts = {
      "BEGIN;", "BEGIN ;", "BEGIN TRANSACTION;", "BEGIN IMMEDIATE TRANSACTION ;", "BEGIN EXCLUSIVE;",
      "BEGIN\n\tDEFERRED\nTRANSACTION\n;", "BEGINTRANSACTION;", "BEGIN DEFERREDTRANSACTION;", "XBEGIN;",
      "_BEGIN;", "BEGIN", "BEGIN UPDATE T SET X = 1; END;", "BEGIN DEFERRED", "BEGIN TRANSACTION", "BEGINX;",
      "COMMIT", "COMMIT;", "COMMITTED", "XCOMMIT", "COMMIT_X", "A COMMIT B", "END TRANSACTION", "END\nTRANSACTION;",
      "ENDTRANSACTION", "END TRANSACTIONS", "END;", "END  TRANSACTION_", "VACUUM", "VACUUM;", "VACUUMS",
      "PRAGMA JOURNAL_MODE = WAL;", "PRAGMA  FOREIGN_KEYS=ON;", "PRAGMA USER_VERSION = 3;", "PRAGMA FOREIGN_KEYS_X",
      "PRAGMAJOURNAL_MODE", "PRAGMA", "", ";", "CREATE TABLE T (BEGIN_AT INTEGER, COMMITS INTEGER) STRICT;",
      "CREATE TRIGGER T AFTER INSERT ON A BEGIN DELETE FROM B; END; COMMIT;", "BEGIN BEGIN;", "9BEGIN;", "É COMMIT"};
  for (const auto& m : shackd::embedded_migrations()) {
    std::string code = m.sql;
    std::transform(code.begin(), code.end(), code.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    texts.push_back(code);
  }
  for (const auto& text : texts) {
    CAPTURE(text);
    std::smatch match;
    const bool found = std::regex_search(text, match, oracle);
    const auto scanned = shackd::forbidden_statement(text);
    REQUIRE(found == scanned.has_value());
    if (found) CHECK(*scanned == match[0].str());
  }
}
