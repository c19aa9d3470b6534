#include "daemon/store/profile_store.hpp"

#include <fmt/format.h>

#include <map>
#include <stdexcept>

#include "daemon/store/profile_rows.hpp"
#include "daemon/store/sha256.hpp"

namespace shackd {

namespace {

using rows::Field;
using rows::Kind;
using rows::Row;
using rows::Value;

std::string column_list(const std::vector<Field>& fields) {
  std::string out;
  for (const auto& f : fields) out += (out.empty() ? "" : ", ") + std::string(f.name);
  return out;
}

std::vector<Row> read_rows(db::Db& db, const std::vector<Field>& fields, const std::string& table,
                           const std::string& order) {
  auto stmt = db.prepare(fmt::format("SELECT {} FROM {} ORDER BY {}", column_list(fields), table, order));
  std::vector<Row> out;
  while (stmt.step()) {
    Row row;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const int col = static_cast<int>(i);
      if (stmt.is_null(col)) {
        row.emplace_back();
      } else if (fields[i].kind == Kind::real) {
        row.emplace_back(stmt.real(col));
      } else if (fields[i].kind == Kind::text) {
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
void upsert(db::Db& db, const std::string& table, const std::vector<Field>& fields, const Row& row,
            const std::string& key, const std::string& extra_col = "", const std::string& extra_val = "") {
  std::string cols = column_list(fields), marks, updates;
  for (const auto& f : fields) {
    marks += marks.empty() ? "?" : ", ?";
    updates += fmt::format("{}{} = excluded.{}", updates.empty() ? "" : ", ", f.name, f.name);
  }
  if (!extra_col.empty()) {
    cols = extra_col + ", " + cols;
    marks = extra_val + ", " + marks;
  }
  auto stmt = db.prepare(fmt::format("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT({}) DO UPDATE SET {}", table, cols,
                                     marks, key, updates));
  for (std::size_t i = 0; i < row.size(); ++i) bind_value(stmt, static_cast<int>(i + 1), row[i]);
  stmt.run();
}

}  // namespace

StoredProfiles load_profiles(db::Db& db) {
  StoredProfiles p;
  std::vector<std::string> errors;
  const auto site = read_rows(db, rows::site_fields(), "site_preferences", "id");
  if (site.empty()) {
    throw std::runtime_error(fmt::format("database {}: site_preferences has no row: run `shackd migrate --db {}`",
                                         db.path(), db.path()));
  }
  rows::site_from_row(site.front(), p, errors);
  for (const Row& row : read_rows(db, rows::miner_fields(), "miner_profiles", "priority, id")) {
    p.rules.miners.emplace_back();
    p.miners.emplace_back();
    rows::miner_from_row(row, p, p.rules.miners.size() - 1, errors);
  }
  for (const Row& row : read_rows(db, rows::zone_fields(), "hvac_zones", "id")) {
    p.rules.zones.emplace_back();
    p.zones.emplace_back();
    rows::zone_from_row(row, p, p.rules.zones.size() - 1, errors);
  }
  if (!errors.empty()) {
    throw std::runtime_error(fmt::format("database {}: stored profiles are not usable:\n{}", db.path(),
                                         fmt::join(errors, "\n")));
  }
  return p;
}

int save_profiles(db::Db& db, const StoredProfiles& next, const StoredProfiles& before) {
  int written = 0;
  if (rows::site_row(next) != rows::site_row(before)) {
    upsert(db, "site_preferences", rows::site_fields(), rows::site_row(next), "id", "id", "1");
    ++written;
  }
  std::map<std::string, Row> old;
  for (std::size_t i = 0; i < before.rules.miners.size(); ++i) old[before.rules.miners[i].name] = rows::miner_row(before, i);
  for (std::size_t i = 0; i < next.rules.miners.size(); ++i) {
    const Row row = rows::miner_row(next, i);
    const auto it = old.find(next.rules.miners[i].name);
    if (it != old.end() && it->second == row) continue;
    upsert(db, "miner_profiles", rows::miner_fields(), row, "name");
    ++written;
  }
  old.clear();
  for (std::size_t i = 0; i < before.rules.zones.size(); ++i) old[before.rules.zones[i].name] = rows::zone_row(before, i);
  for (std::size_t i = 0; i < next.rules.zones.size(); ++i) {
    const Row row = rows::zone_row(next, i);
    const auto it = old.find(next.rules.zones[i].name);
    if (it != old.end() && it->second == row) continue;
    upsert(db, "hvac_zones", rows::zone_fields(), row, "name");
    ++written;
  }
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
