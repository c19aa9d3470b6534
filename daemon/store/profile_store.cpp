#include "daemon/store/profile_store.hpp"

#include <fmt/format.h>

#include <map>
#include <stdexcept>

#include "daemon/site/profile_schema.hpp"
#include "daemon/text/sha256.hpp"

namespace shackd {

namespace {

using schema::Entity;
using schema::Row;
using schema::Storage;
using schema::Value;

std::string column_list(const Entity& e) {
  std::string out;
  for (const auto& f : e.fields) out += (out.empty() ? "" : ", ") + std::string(f.key);
  return out;
}

std::vector<Row> read_rows(db::Db& db, const Entity& e, const std::string& order) {
  auto stmt = db.prepare(fmt::format("SELECT {} FROM {} ORDER BY {}", column_list(e), e.table, order));
  std::vector<Row> out;
  while (stmt.step()) {
    Row row;
    for (std::size_t i = 0; i < e.fields.size(); ++i) {
      const int col = static_cast<int>(i);
      if (stmt.is_null(col)) {
        row.emplace_back();
      } else if (schema::storage_of(e.fields[i].type) == Storage::real) {
        row.emplace_back(stmt.real(col));
      } else if (schema::storage_of(e.fields[i].type) == Storage::text) {
        row.emplace_back(stmt.text(col));
      } else {
        row.emplace_back(stmt.integer(col));
      }
    }
    out.push_back(std::move(row));
  }
  return out;
}

void bind_value(db::Stmt& s, int index, const Value& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) s.bind(index, *i);
  else if (const auto* d = std::get_if<double>(&v)) s.bind(index, *d);
  else if (const auto* t = std::get_if<std::string>(&v)) s.bind(index, *t);
  else s.bind_null(index);
}

// INSERT ... ON CONFLICT(key) DO UPDATE, for one row.
void upsert(db::Db& db, const Entity& e, const Row& row, const std::string& key, const std::string& extra_col = "",
            const std::string& extra_val = "") {
  std::string cols = column_list(e), marks, updates;
  for (const auto& f : e.fields) {
    marks += marks.empty() ? "?" : ", ?";
    updates += fmt::format("{}{} = excluded.{}", updates.empty() ? "" : ", ", f.key, f.key);
  }
  if (!extra_col.empty()) {
    cols = extra_col + ", " + cols;
    marks = extra_val + ", " + marks;
  }
  auto stmt = db.prepare(fmt::format("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT({}) DO UPDATE SET {}", e.table, cols,
                                     marks, key, updates));
  for (std::size_t i = 0; i < row.size(); ++i) bind_value(stmt, static_cast<int>(i + 1), row[i]);
  stmt.run();
}

}  // namespace

StoredProfiles load_profiles(db::Db& db) {
  StoredProfiles p;
  std::vector<std::string> errors;
  const auto site = read_rows(db, schema::site(), "id");
  if (site.empty()) {
    throw std::runtime_error(fmt::format("database {}: site_preferences has no row: run `shackd migrate --db {}`",
                                         db.path(), db.path()));
  }
  schema::from_row(schema::site(), site.front(), p, 0, errors);
  for (const Row& row : read_rows(db, schema::miner(), "priority, id")) {
    p.rules.miners.emplace_back();
    p.miners.emplace_back();
    schema::from_row(schema::miner(), row, p, p.rules.miners.size() - 1, errors);
  }
  for (const Row& row : read_rows(db, schema::zone(), "id")) {
    p.rules.zones.emplace_back();
    p.zones.emplace_back();
    schema::from_row(schema::zone(), row, p, p.rules.zones.size() - 1, errors);
  }
  if (!errors.empty()) {
    throw std::runtime_error(fmt::format("database {}: stored profiles are not usable:\n{}", db.path(),
                                         fmt::join(errors, "\n")));
  }
  return p;
}

int save_profiles(db::Db& db, const StoredProfiles& next, const StoredProfiles& before) {
  int written = 0;
  if (schema::row_of(schema::site(), next) != schema::row_of(schema::site(), before)) {
    upsert(db, schema::site(), schema::row_of(schema::site(), next), "id", "id", "1");
    ++written;
  }
  // Miners and zones by name: a row that differs from its `before` is written.
  const auto upsert_changed = [&](const Entity& e, const auto& list_before, const auto& list_next) {
    std::map<std::string, Row> old;
    for (std::size_t i = 0; i < list_before.size(); ++i) old[list_before[i].name] = schema::row_of(e, before, i);
    for (std::size_t i = 0; i < list_next.size(); ++i) {
      const Row row = schema::row_of(e, next, i);
      const auto it = old.find(list_next[i].name);
      if (it != old.end() && it->second == row) continue;
      upsert(db, e, row, "name");
      ++written;
    }
  };
  upsert_changed(schema::miner(), before.rules.miners, next.rules.miners);
  upsert_changed(schema::zone(), before.rules.zones, next.rules.zones);
  // Removals last: the zones kept no longer name a removed miner (validated before), so the
  // heat_miner foreign key has nothing to set null.
  const auto remove = [&](const char* table, const auto& list_before, const auto& list_next) {
    for (const auto& b : list_before) {
      bool kept = false;
      for (const auto& n : list_next) kept = kept || n.name == b.name;
      if (kept) continue;
      auto del = db.prepare(fmt::format("DELETE FROM {} WHERE name = ?", table));
      del.bind(1, b.name).run();
      ++written;
    }
  };
  remove("hvac_zones", before.rules.zones, next.rules.zones);
  remove("miner_profiles", before.rules.miners, next.rules.miners);
  return written;
}

void save_profile_change(db::Db& db, const StoredProfiles& next, const StoredProfiles& before,
                         const std::string& source, const std::string& message) {
  db::Transaction tx(db);
  save_profiles(db, next, before);
  auto ins = db.prepare("INSERT INTO config_history (sha256, source, outcome, message) VALUES (?, ?, 'applied', ?)");
  ins.bind(1, sha256_hex(source + "\n" + message)).bind(2, source).bind(3, message).run();
  tx.commit();
}

}  // namespace shackd
