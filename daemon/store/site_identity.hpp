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

// The id a site gets from its name: lower case ASCII letters and digits, blanks and punctuation as
// one '_', Latin letters with a diacritic as their base letter ("Café Ñandú": cafe_nandu); a name
// with anything else (a '#', an emoji, another script) gets a short hash of itself after it, so that
// two such names do not collapse into one id ("Shack #1": shack_1_<6 hex>).
std::string site_id_from_name(const std::string& name);

// The stored id, or, the first time, site_id_from_name(site_name) (a plain ASCII name gives the
// slug Home Assistant's ids were made from before the table existed), stored. Throws db::Error.
SiteIdentity site_identity(db::Db& db, const std::string& site_name, std::int64_t unix_now);

}  // namespace shackd
