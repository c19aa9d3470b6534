#pragma once
// A throwaway directory with a real SQLite file in it, removed at the end of the test.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "daemon/store/migrate.hpp"
#include "daemon/store/sqlite.hpp"

namespace test {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "shackd-test-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
  }
};

// A database migrated with the built-in schema.
struct MigratedDb {
  TempDir dir;
  std::string path = dir.file("shackd.db");
  shackd::db::Db db{path, {.create = true}};
  MigratedDb() { shackd::migrate(db, shackd::embedded_migrations()); }
};

// The schema files as they are in the repository, copied into `dir`.
inline void copy_schema(const TempDir& dir) {
  for (const auto& m : shackd::embedded_migrations()) dir.write(m.name, m.sql);
}

}  // namespace test
