#pragma once
// A thin RAII layer over the SQLite C API. Every failure throws db::Error with the database's
// path, what was being done, and SQLite's own words; callers decide what that means.
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace shackd::db {

class Error : public std::runtime_error {
 public:
  Error(std::string message, int code) : std::runtime_error(std::move(message)), code_(code) {}
  int code() const { return code_; }  // SQLite's extended result code
  bool locked() const { return (code_ & 0xff) == SQLITE_BUSY || (code_ & 0xff) == SQLITE_LOCKED; }
  // A cause that goes away by itself or when someone frees space (locked, disk full, an I/O error,
  // a file system gone read-only): a restart may succeed, unlike a wrong config.
  bool temporary() const {
    const int c = code_ & 0xff;
    return locked() || c == SQLITE_FULL || c == SQLITE_IOERR || c == SQLITE_READONLY;
  }

 private:
  int code_;
};

class Stmt {
 public:
  Stmt(sqlite3* db, std::string_view sql, const std::string& db_path);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& other) noexcept;

  Stmt& bind(int index, double value);
  Stmt& bind(int index, std::int64_t value);
  Stmt& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Stmt& bind(int index, bool value) { return bind(index, static_cast<std::int64_t>(value ? 1 : 0)); }
  Stmt& bind(int index, std::string_view value);
  Stmt& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Stmt& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Stmt& bind_null(int index);
  template <typename T>
  Stmt& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }

  bool step();  // true while a row is available
  void run();   // a statement that returns no rows
  void reset();

  bool is_null(int col) const;
  double real(int col) const;
  std::int64_t integer(int col) const;
  std::string text(int col) const;
  std::optional<double> opt_real(int col) const;
  std::optional<std::string> opt_text(int col) const;

 private:
  [[noreturn]] void fail(const char* what, int rc) const;
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
  std::string sql_;
  const std::string* path_ = nullptr;
};

struct OpenOptions {
  bool create = false;           // create the file if it is missing
  int busy_timeout_ms = 5000;    // wait this long for another writer
  // Reads only (status, report, profiles export, replay): it needs read access to the file and
  // its -wal and -shm, not write access, so a member of the shackd group can run it (issue 31).
  bool read_only = false;
};

class Db {
 public:
  // Opens and sets the connection up: WAL, synchronous=NORMAL, foreign_keys=ON, busy timeout.
  Db(std::string path, OpenOptions options = {});
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(std::string_view sql);  // one or more statements, no rows
  Stmt prepare(std::string_view sql) { return Stmt(db_, sql, path_); }
  std::int64_t scalar_int(std::string_view sql);
  bool in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }
  bool table_exists(std::string_view name);
  sqlite3* raw() const { return db_; }
  const std::string& path() const { return path_; }
  [[noreturn]] void fail(std::string_view what, int rc) const;

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

// BEGIN IMMEDIATE (the write lock up front: no upgrade deadlock), ROLLBACK unless committed.
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace shackd::db
