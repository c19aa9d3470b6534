#pragma once
// Profiles in SQLite: read them all, or write the rows that changed.
#include "daemon/site/profiles.hpp"
#include "daemon/store/sqlite.hpp"

namespace shackd {

// Miners in priority order. Throws db::Error, or std::runtime_error when the rows do not make
// valid profiles (the schema's CHECKs should have refused them).
StoredProfiles load_profiles(db::Db& db);

// Upserts by name every site, miner and zone row that differs from `before`; rows missing from
// `next` are left alone. Call inside a transaction. Returns the number of rows written.
int save_profiles(db::Db& db, const StoredProfiles& next, const StoredProfiles& before);

}  // namespace shackd
