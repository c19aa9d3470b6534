#pragma once
// Table site_identity (schema 0009): the site's stable id for Home Assistant.
#include <cstdint>
#include <string>

#include "daemon/store/sqlite.hpp"

namespace shackd {

struct SiteIdentity {
  std::string site_id;     // "solar_shack": a-z, 0-9 and _
  std::string named_from;  // site.name when it was fixed
  bool fixed_now = false;  // this call fixed it
};

// The stored id, or, the first time, the slug of `site_name` (as Home Assistant's ids were made
// before the table existed), stored. Throws db::Error.
SiteIdentity site_identity(db::Db& db, const std::string& site_name, std::int64_t unix_now);

}  // namespace shackd
