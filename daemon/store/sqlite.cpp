#include "daemon/store/sqlite.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "daemon/system/access.hpp"

namespace shackd::db {

namespace {
std::string describe(sqlite3* db, int rc) {
  const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return fmt::format("{} ({})", msg, sqlite3_errstr(rc));
}
}  // namespace

// ---- Stmt

Stmt::Stmt(sqlite3* db, std::string_view sql, const std::string& db_path) : db_(db), sql_(sql), path_(&db_path) {
  const int rc = sqlite3_prepare_v2(db, sql_.data(), static_cast<int>(sql_.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) fail("prepare", rc);
}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

Stmt::Stmt(Stmt&& other) noexcept
    : stmt_(other.stmt_), db_(other.db_), sql_(std::move(other.sql_)), path_(other.path_) {
  other.stmt_ = nullptr;
}

void Stmt::fail(const char* what, int rc) const {
  std::string first_line = sql_.substr(0, sql_.find('\n'));
  if (first_line.size() > 80) first_line = first_line.substr(0, 77) + "...";
  throw Error(fmt::format("database {}: {} '{}': {}", *path_, what, first_line, describe(db_, rc)),
              sqlite3_extended_errcode(db_));
}

Stmt& Stmt::bind(int index, double value) {
  if (const int rc = sqlite3_bind_double(stmt_, index, value); rc != SQLITE_OK) fail("bind", rc);
  return *this;
}
Stmt& Stmt::bind(int index, std::int64_t value) {
  if (const int rc = sqlite3_bind_int64(stmt_, index, value); rc != SQLITE_OK) fail("bind", rc);
  return *this;
}
Stmt& Stmt::bind(int index, std::string_view value) {
  const int rc = sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail("bind", rc);
  return *this;
}
Stmt& Stmt::bind_null(int index) {
  if (const int rc = sqlite3_bind_null(stmt_, index); rc != SQLITE_OK) fail("bind", rc);
  return *this;
}

bool Stmt::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3_reset(stmt_);
  fail("run", rc);
}

void Stmt::run() {
  while (step()) {
  }
  reset();
}

void Stmt::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Stmt::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
double Stmt::real(int col) const { return sqlite3_column_double(stmt_, col); }
std::int64_t Stmt::integer(int col) const { return sqlite3_column_int64(stmt_, col); }
std::string Stmt::text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
           : std::string();
}
std::optional<double> Stmt::opt_real(int col) const {
  if (is_null(col)) return std::nullopt;
  return real(col);
}
std::optional<std::string> Stmt::opt_text(int col) const {
  if (is_null(col)) return std::nullopt;
  return text(col);
}

// ---- Db

Db::Db(std::string path, OpenOptions options) : path_(std::move(path)) {
  int flags = (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
  if (options.create && !options.read_only) flags |= SQLITE_OPEN_CREATE;
  const int rc = sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string why = describe(db_, rc);
    sqlite3_close(db_);
    db_ = nullptr;
    if ((rc & 0xff) == SQLITE_CANTOPEN && !options.create) {
      // A file that is there but closed to this user is not one to create (issue 31).
      if (const std::string denied = permission_problem(path_, !options.read_only); !denied.empty()) {
        throw Error(fmt::format("database {}: cannot open it: {}", path_, denied), rc);
      }
      std::error_code ec;
      if (!std::filesystem::exists(path_, ec)) {
        throw Error(fmt::format("database {}: no such file; create it with `shackd migrate --db {}`", path_, path_), rc);
      }
    }
    throw Error(fmt::format("database {}: cannot open it: {}", path_, why), rc);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, options.busy_timeout_ms);
  // Outside any transaction, in this order (docs/protocols.md §6). WAL needs a writable directory.
  // synchronous=NORMAL in WAL cannot corrupt; a power cut may lose the last commits, an app
  // crash loses nothing. It fsyncs only at checkpoints, which spares the SD card.
  try {
    if (options.read_only) {
      // A reader without write access uses the -wal and -shm files as shackd left them (SQLite
      // 3.22+ reads a WAL database read-only when they exist: sqlite.org/wal.html, "Read-Only
      // Databases"); without them it cannot read at all, and says "attempt to write a readonly
      // database". Say what is wrong instead.
      try {
        exec("SELECT count(*) FROM sqlite_schema");
      } catch (const Error& e) {
        std::error_code ec;
        if ((e.code() & 0xff) != SQLITE_READONLY && (e.code() & 0xff) != SQLITE_CANTOPEN) throw;
        if (std::filesystem::exists(path_ + "-shm", ec)) throw;
        throw Error(fmt::format("database {}: cannot read it: {}-shm is missing (shackd leaves it beside the "
                                "database once it has run) and the directory is closed to you: run it with sudo, "
                                "or start shackd once", path_, path_), e.code());
      }
    } else {
      // The -wal and -shm stay when the last connection closes (the WAL emptied), so that a
      // reader without write access to the directory can still read (above).
      int persist = 1;
      sqlite3_file_control(db_, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
      exec("PRAGMA journal_mode=WAL");
    }
    exec("PRAGMA synchronous=NORMAL");
    exec("PRAGMA foreign_keys=ON");
    exec("PRAGMA journal_size_limit=8388608");
    // 512 KiB of page cache (the default is 2 MiB): shackd's working set is small, RAM on a Pi is not.
    exec("PRAGMA cache_size=-512");
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

Db::~Db() { sqlite3_close(db_); }

void Db::fail(std::string_view what, int rc) const {
  throw Error(fmt::format("database {}: {}: {}", path_, what, describe(db_, rc)), sqlite3_extended_errcode(db_));
}

void Db::exec(std::string_view sql) {
  const std::string text(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    std::string first_line = text.substr(0, text.find('\n'));
    if (first_line.size() > 80) first_line = first_line.substr(0, 77) + "...";
    throw Error(fmt::format("database {}: '{}': {} ({})", path_, first_line, msg, sqlite3_errstr(rc)),
                sqlite3_extended_errcode(db_));
  }
}

std::int64_t Db::scalar_int(std::string_view sql) {
  Stmt s = prepare(sql);
  return s.step() ? s.integer(0) : 0;
}

bool Db::table_exists(std::string_view name) {
  Stmt s = prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?");
  s.bind(1, name);
  return s.step();
}

// ---- Transaction

Transaction::Transaction(Db& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  // SQLite leaves a transaction open after a failed multi-statement exec: roll back explicitly.
  if (!done_ && db_.in_transaction()) sqlite3_exec(db_.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace shackd::db
