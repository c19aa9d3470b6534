// The profiles' schema (daemon/site/profile_fields.cpp) against the tables the migrations make:
// the same columns, types, NOT NULL and defaults, and each field's range refused by the column's
// CHECK as by the schema. A field added to the schema without its migration, or a migration
// that says otherwise, fails here.
#include "tests/store/fixture.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "daemon/config/profiles_yaml.hpp"
#include "daemon/site/profile_schema.hpp"
#include "daemon/store/profile_store.hpp"

namespace {

using shackd::schema::Entity;
using shackd::schema::Field;
using shackd::schema::Storage;
using shackd::schema::Type;
using shackd::schema::Value;

struct Column {
  std::string type;
  bool not_null = false;
  std::optional<std::string> default_sql;
};

std::map<std::string, Column> columns(shackd::db::Db& db, std::string_view table) {
  std::map<std::string, Column> out;
  auto s = db.prepare(fmt::format("PRAGMA table_info({})", table));
  while (s.step()) out[s.text(1)] = {s.text(2), s.integer(3) != 0, s.opt_text(4)};
  return out;
}

const char* sql_type(Type t) {
  switch (shackd::schema::storage_of(t)) {
    case Storage::real: return "REAL";
    case Storage::integer: return "INTEGER";
    case Storage::text: return "TEXT";
  }
  return "?";
}

// A column's DEFAULT as SQLite keeps its text ("600", "1.0", "'off'"), as a value of the field.
Value default_value(const Field& f, const std::string& sql) {
  if (sql == "NULL") return {};
  switch (shackd::schema::storage_of(f.type)) {
    case Storage::real: return std::stod(sql);
    case Storage::integer: return static_cast<std::int64_t>(std::stoll(sql));
    case Storage::text: return sql.size() >= 2 && sql.front() == '\'' ? sql.substr(1, sql.size() - 2) : sql;
  }
  return {};
}

std::string shown(const Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return "null";
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  return "'" + std::get<std::string>(v) + "'";
}

// The first row of the entity's table, where a value can be tried.
std::string row_of(const Entity& e) { return e.kind == "site" ? "id = 1" : fmt::format("id = (SELECT min(id) FROM {})", e.table); }

bool accepted(shackd::db::Db& db, const Entity& e, const Field& f, double v) {
  db.exec("SAVEPOINT try_value");
  bool ok = true;
  try {
    auto s = db.prepare(fmt::format("UPDATE {} SET {} = ? WHERE {}", e.table, f.key, row_of(e)));
    if (shackd::schema::storage_of(f.type) == Storage::integer) s.bind(1, static_cast<std::int64_t>(std::llround(v)));
    else s.bind(1, v);
    s.run();
  } catch (const shackd::db::Error&) {
    ok = false;
  }
  db.exec("ROLLBACK TO try_value; RELEASE try_value");
  return ok;
}

bool has(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

std::vector<const Entity*> entities() { return {&shackd::schema::site(), &shackd::schema::miner(), &shackd::schema::zone()}; }

}  // namespace

TEST_CASE("schema: each field is a column of its table, of its type, NOT NULL unless nullable, and nothing else") {
  test::MigratedDb m;
  for (const Entity* e : entities()) {
    CAPTURE(std::string(e->table));
    auto cols = columns(m.db, e->table);
    for (const char* own : {"id", "created_at", "updated_at"}) cols.erase(own);
    std::set<std::string> keys;
    for (const auto& f : e->fields) {
      CAPTURE(std::string(f.key));
      keys.insert(std::string(f.key));
      const auto c = cols.find(std::string(f.key));
      REQUIRE_MESSAGE(c != cols.end(), "no column: a new field needs its migration in schema/");
      CHECK(c->second.type == sql_type(f.type));
      CHECK(c->second.not_null == !f.nullable);
    }
    for (const auto& col : cols) CHECK_MESSAGE(keys.count(col.first), "column " << col.first << " has no field in the schema");
  }
}

TEST_CASE("schema: a new miner's and zone's defaults are the columns' DEFAULTs; the site's, a new database's") {
  test::MigratedDb m;
  for (const Entity* e : {&shackd::schema::miner(), &shackd::schema::zone()}) {
    const auto cols = columns(m.db, e->table);
    for (const auto& f : e->fields) {
      CAPTURE(std::string(e->table) + "." + std::string(f.key));
      const auto& c = cols.at(std::string(f.key));
      if (f.required) {
        CHECK_FALSE(c.default_sql);  // a value the owner must give has no default to fall back on
        continue;
      }
      const Value column = c.default_sql ? default_value(f, *c.default_sql) : Value();
      CHECK(shown(column) == shown(f.fallback));
    }
  }
  const auto p = shackd::load_profiles(m.db);
  const auto row = shackd::schema::row_of(shackd::schema::site(), p);
  for (std::size_t i = 0; i < row.size(); ++i) {
    const Field& f = shackd::schema::site().fields[i];
    CAPTURE(std::string(f.key));
    CHECK(shown(row[i]) == shown(f.fallback));
  }
}

TEST_CASE("schema: each field's range is its column's CHECK: the value past it refused, the value at it taken") {
  test::MigratedDb m;
  // Bounds that another column's rule refuses on the seed's values: probe_backoff_max_s must be
  // at least probe_backoff_min_s (600).
  const std::set<std::string> bound_meets_another_rule = {"probe_backoff_max_s"};
  int ranged = 0;
  for (const Entity* e : entities()) {
    for (const auto& f : e->fields) {
      if (!f.range.min && !f.range.max) continue;
      CAPTURE(std::string(e->table) + "." + std::string(f.key));
      ++ranged;
      const bool whole = shackd::schema::storage_of(f.type) == Storage::integer;
      const double step = whole ? 1 : 0.001;
      if (f.range.min) {
        CHECK_FALSE(accepted(m.db, *e, f, f.range.above ? *f.range.min : *f.range.min - step));
        if (!bound_meets_another_rule.count(std::string(f.key))) {
          CHECK(accepted(m.db, *e, f, f.range.above ? *f.range.min + step : *f.range.min));
        }
      }
      if (f.range.max) {
        CHECK_FALSE(accepted(m.db, *e, f, *f.range.max + step));
        CHECK(accepted(m.db, *e, f, *f.range.max));
      }
    }
  }
  CHECK(ranged >= 30);
}

TEST_CASE("schema: a choice's words are its column's: each taken, another refused") {
  test::MigratedDb m;
  for (const Entity* e : entities()) {
    for (const auto& f : e->fields) {
      if (f.type != Type::choice) continue;
      CAPTURE(std::string(e->table) + "." + std::string(f.key));
      const auto set = [&](const std::string& word) {
        m.db.exec("SAVEPOINT w");
        bool ok = true;
        try {
          m.db.prepare(fmt::format("UPDATE {} SET {} = ? WHERE {}", e->table, f.key, row_of(*e))).bind(1, word).run();
        } catch (const shackd::db::Error&) {
          ok = false;
        }
        m.db.exec("ROLLBACK TO w; RELEASE w");
        return ok;
      };
      CHECK_FALSE(set("no such word"));
      for (const auto& w : f.choices) {
        // A heating priority on its own may break the zone's pairing rules; the words are tried
        // as the column takes them.
        if (f.key.starts_with("heating_priority")) continue;
        CHECK_MESSAGE(set(w), w);
      }
    }
  }
}

TEST_CASE("schema: a value out of its range is named with the range, once, and located in the YAML") {
  test::MigratedDb m;
  auto p = shackd::load_profiles(m.db);
  const YAML::Node section = YAML::Load(
      "miners:\n  - name: Primary S21+\n    priority: 11\n    min_on_s: -5\n  - name: \"Dump Load S19 #1\"\n"
      "zones:\n  - name: Heat Room\n  - name: Main Room\nsite:\n  latitude: 95\n");
  const auto problems = shackd::overlay_profiles(section, p, "profiles");
  CHECK(has(problems,
                            "profiles.miners[0].priority (line 3:15): miner 'Primary S21+': priority 11 must be between 1 and 10"));
  CHECK(has(problems,
                            "profiles.miners[0].min_on_s (line 4:15): miner 'Primary S21+': min_on_s -5 must be at least 0"));
  CHECK(has(problems, "profiles.site.latitude (line 10:13): site: latitude 95.0 must be between -90 and 90"));
  CHECK(problems.size() == 3);  // the rules' own words for the same values are not said again
}
