#include "daemon/store/migrate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string_view>

#include "daemon/store/backup.hpp"
#include "daemon/store/embedded_schema.hpp"
#include "daemon/text/sha256.hpp"

namespace shackd {

namespace {

const std::regex kFileName(R"(^([0-9]{4})_[a-z0-9_]+\.sql$)");

Migration make(std::string name, std::string sql) {
  Migration m;
  std::smatch match;
  if (std::regex_match(name, match, kFileName)) m.version = std::stoi(match[1].str());
  m.name = std::move(name);
  m.sha256 = sha256_hex(sql);
  m.sql = std::move(sql);
  return m;
}

// The SQL without comments, upper-cased, for the forbidden-statement scan.
std::string code_only(const std::string& sql) {
  std::string out;
  bool in_comment = false, in_string = false;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (in_comment) {
      if (c == '\n') in_comment = false, out += '\n';
      continue;
    }
    if (!in_string && c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      in_comment = true;
      continue;
    }
    if (c == '\'') in_string = !in_string;
    out += in_string ? ' ' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string short_sha(const std::string& s) { return s.substr(0, 12); }

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

}  // namespace

// A scan, not a std::regex: the regex this replaces (kept as the test's oracle,
// tests/store/migrate_test.cpp) cost about 107 million instructions at every start over the
// embedded set (callgrind, 2026-11-28: a third of a 60 s run of the daemon, and every test that
// migrates a database paid it too); this is linear in the text.
std::optional<std::string> forbidden_statement(const std::string& code) {
  const std::size_t n = code.size();
  const auto at = [&](std::size_t i, std::string_view w) { return i <= n && code.compare(i, w.size(), w) == 0; };
  const auto word_at = [&](std::size_t i, std::string_view w) {  // `w` there, a word boundary after it
    return at(i, w) && (i + w.size() == n || !word_char(code[i + w.size()]));
  };
  const auto spaces = [&](std::size_t i) {
    while (i < n && std::isspace(static_cast<unsigned char>(code[i])) != 0) ++i;
    return i;
  };
  for (std::size_t i = 0; i < n; ++i) {
    if (!word_char(code[i]) || (i > 0 && word_char(code[i - 1]))) continue;  // a word's start only
    const std::size_t from = i;
    if (at(i, "BEGIN")) {  // BEGIN [DEFERRED | IMMEDIATE | EXCLUSIVE] [TRANSACTION] ;
      std::size_t j = spaces(i + 5);
      for (const std::string_view kind : {"DEFERRED", "IMMEDIATE", "EXCLUSIVE"}) {
        if (at(j, kind)) {
          j = spaces(j + kind.size());
          break;
        }
      }
      if (at(j, "TRANSACTION")) j = spaces(j + 11);
      if (j < n && code[j] == ';') return code.substr(from, j + 1 - from);
    }
    if (word_at(i, "COMMIT")) return code.substr(from, 6);
    if (word_at(i, "VACUUM")) return code.substr(from, 6);
    if (at(i, "END") && i + 3 < n && std::isspace(static_cast<unsigned char>(code[i + 3])) != 0) {
      const std::size_t j = spaces(i + 3);
      if (word_at(j, "TRANSACTION")) return code.substr(from, j + 11 - from);
    }
    if (at(i, "PRAGMA") && i + 6 < n && std::isspace(static_cast<unsigned char>(code[i + 6])) != 0) {
      const std::size_t j = spaces(i + 6);
      for (const std::string_view pragma : {"JOURNAL_MODE", "FOREIGN_KEYS"}) {
        if (word_at(j, pragma)) return code.substr(from, j + pragma.size() - from);
      }
    }
  }
  return std::nullopt;
}

std::vector<Migration> embedded_migrations() {
  std::vector<Migration> out;
  for (const EmbeddedSql& f : embedded_schema()) out.push_back(make(std::string(f.name), std::string(f.sql)));
  return out;
}

std::vector<Migration> migrations_from_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".sql") files.push_back(e.path());
  }
  if (ec) throw std::runtime_error(fmt::format("schema directory {}: {}", dir, ec.message()));
  std::sort(files.begin(), files.end());
  std::vector<Migration> out;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) throw std::runtime_error(fmt::format("schema file {}: cannot read it", f.string()));
    out.push_back(make(f.filename().string(), text.str()));
  }
  return out;
}

std::vector<std::string> check_migration_set(const std::vector<Migration>& set) {
  std::vector<std::string> problems;
  std::map<int, std::vector<std::string>> by_number;
  for (const auto& m : set) {
    if (m.version == 0) {
      problems.push_back(fmt::format(
          "migration file {}: the name must be NNNN_words.sql (4 digits from 0001, lowercase words): rename it", m.name));
      continue;
    }
    by_number[m.version].push_back(m.name);
    if (const auto found = forbidden_statement(code_only(m.sql))) {
      problems.push_back(fmt::format(
          "migration file {}: it contains '{}'; the runner wraps each file in its own transaction and sets the "
          "pragmas itself: remove it",
          m.name, *found));
    }
  }
  int expected = 1;
  for (const auto& [number, names] : by_number) {
    if (names.size() > 1) {
      problems.push_back(fmt::format("migration files {} share the number {:04}: give each its own number", 
                                     fmt::join(names, " and "), number));
    }
    if (number != expected) {
      problems.push_back(fmt::format(
          "migration file {} has number {:04}, but the next number expected is {:04}: numbers run from 0001 "
          "without gaps",
          names.front(), number, expected));
    }
    expected = number + 1;
  }
  return problems;
}

MigrationPlan plan_migrations(db::Db& db, const std::vector<Migration>& set) {
  MigrationPlan plan;
  plan.problems = check_migration_set(set);
  plan.db_version = static_cast<int>(db.scalar_int("PRAGMA user_version"));
  for (const auto& m : set) plan.known_version = std::max(plan.known_version, m.version);

  std::map<int, const Migration*> files;
  for (const auto& m : set) files.emplace(m.version, &m);

  if (plan.db_version > plan.known_version) {
    plan.problems.push_back(fmt::format(
        "database {} is at schema version {}, but this shackd knows migrations only up to {}: it was written by a "
        "newer shackd. Install that version again, or restore a backup taken before the upgrade ({}.bak-*)",
        db.path(), plan.db_version, plan.known_version, db.path()));
  }
  if (plan.db_version > 0) {
    if (!db.table_exists("schema_migrations")) {
      plan.problems.push_back(fmt::format(
          "database {} is at schema version {} but has no schema_migrations table: it was not made by shackd. "
          "Point --db at a new file",
          db.path(), plan.db_version));
      return plan;
    }
    std::map<int, std::pair<std::string, std::string>> applied;
    auto rows = db.prepare("SELECT version, name, sha256 FROM schema_migrations ORDER BY version");
    while (rows.step()) applied[static_cast<int>(rows.integer(0))] = {rows.text(1), rows.text(2)};
    for (int v = 1; v <= std::min(plan.db_version, plan.known_version); ++v) {
      const auto a = applied.find(v);
      const auto f = files.find(v);
      if (a == applied.end()) {
        plan.problems.push_back(fmt::format(
            "database {}: schema_migrations has no row for version {:04} although the database is at version {}: "
            "it was changed outside shackd. Restore a backup ({}.bak-*)",
            db.path(), v, plan.db_version, db.path()));
        continue;
      }
      if (f == files.end()) continue;  // reported by check_migration_set as a gap
      const auto& [name, sha] = a->second;
      if (name != f->second->name) {
        plan.problems.push_back(fmt::format(
            "migration {:04} was applied as {}, but the file with that number is now {}: an applied migration must "
            "never be renamed or replaced. Restore {} and give the new file the next free number",
            v, name, f->second->name, name));
      } else if (sha != f->second->sha256) {
        plan.problems.push_back(fmt::format(
            "migration {} was applied with sha256 {}…, but the file now has {}…: an applied migration must never "
            "change. Restore the original file and put the change in a new migration ({:04}_….sql)",
            name, short_sha(sha), short_sha(f->second->sha256), plan.known_version + 1));
      }
    }
  }
  for (const auto& m : set) {
    if (m.version > plan.db_version) plan.pending.push_back(&m);
  }
  std::sort(plan.pending.begin(), plan.pending.end(),
            [](const Migration* a, const Migration* b) { return a->version < b->version; });
  return plan;
}

MigrateResult migrate(db::Db& db, const std::vector<Migration>& set, const MigrateOptions& options) {
  MigrateResult result;
  result.plan = plan_migrations(db, set);
  const MigrationPlan& plan = result.plan;
  if (!plan.problems.empty()) {
    throw MigrationError(fmt::format("{}", fmt::join(plan.problems, "\n")));
  }
  if (options.dry_run || plan.pending.empty()) return result;

  if (plan.db_version > 0 && options.backup) result.backup_path = backup_beside(db, plan.db_version, options.keep_backups);

  for (const Migration* m : plan.pending) {
    db::Transaction tx(db);
    try {
      db.exec(m->sql);
      auto ledger = db.prepare("INSERT INTO schema_migrations (version, name, sha256) VALUES (?, ?, ?)");
      ledger.bind(1, m->version).bind(2, m->name).bind(3, m->sha256).run();
      db.exec(fmt::format("PRAGMA user_version = {}", m->version));
      tx.commit();
    } catch (const db::Error& e) {
      // ~Transaction rolls back: user_version and the ledger go back with it.
      const int version = result.applied.empty() ? plan.db_version : result.applied.back();
      throw MigrationError(fmt::format("migration {} failed, so it was rolled back and the database stays at "
                                       "version {}: {}",
                                       m->name, version, e.what()),
                         e.temporary());
    }
    result.applied.push_back(m->version);
  }
  return result;
}

void require_current(db::Db& db, const std::vector<Migration>& set) {
  const MigrationPlan plan = plan_migrations(db, set);
  if (!plan.problems.empty()) throw MigrationError(fmt::format("{}", fmt::join(plan.problems, "\n")));
  if (!plan.pending.empty()) {
    throw MigrationError(fmt::format("database {} is at schema version {} and {} migration(s) are pending: run "
                                     "`shackd migrate --db {}`",
                                     db.path(), plan.db_version, plan.pending.size(), db.path()));
  }
}

std::vector<std::string> schema_differences(db::Db& db, const std::vector<Migration>& set) {
  const int version = static_cast<int>(db.scalar_int("PRAGMA user_version"));
  std::vector<Migration> upto;
  for (const auto& m : set) {
    if (m.version <= version) upto.push_back(m);
  }
  db::Db fresh(":memory:", {.create = true});
  migrate(fresh, upto, {.dry_run = false, .keep_backups = 0, .backup = false});
  // Tables, indexes, views and triggers by name, each with its SQL as SQLite keeps it (an ALTER
  // TABLE rewrites it the same way in both); SQLite's own (sqlite_%) aside.
  const auto objects = [](db::Db& d) {
    std::map<std::string, std::pair<std::string, std::string>> out;
    auto s = d.prepare("SELECT type, name, coalesce(sql, '') FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'");
    while (s.step()) out[s.text(1)] = {s.text(0), s.text(2)};
    return out;
  };
  const auto want = objects(fresh), have = objects(db);
  std::vector<std::string> out;
  for (const auto& [name, w] : want) {
    const auto h = have.find(name);
    if (h == have.end()) {
      out.push_back(fmt::format("{} {} is missing (dropped outside shackd?): restore a backup ({}.bak-*)", w.first, name,
                                db.path()));
    } else if (h->second != w) {
      out.push_back(fmt::format("{} {} is not as the migrations make it (changed outside shackd?)", w.first, name));
    }
  }
  for (const auto& [name, h] : have) {
    if (!want.count(name)) out.push_back(fmt::format("{} {} is not one the migrations make", h.first, name));
  }
  return out;
}

}  // namespace shackd
