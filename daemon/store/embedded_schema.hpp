#pragma once
// The schema/*.sql migrations, compiled into the binary (cmake/embed_schema.cmake).
#include <span>
#include <string_view>

namespace shackd {

struct EmbeddedSql {
  std::string_view name;  // "0001_profiles.sql"
  std::string_view sql;   // the file's exact bytes
};

// Sorted by file name.
std::span<const EmbeddedSql> embedded_schema();

}  // namespace shackd
