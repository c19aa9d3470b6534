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

// A change made outside the config file (a setting over MQTT): its rows, and a config_history
// record of it (`source`, "applied", `message`), in one transaction. Throws db::Error.
void save_profile_change(db::Db& db, const StoredProfiles& next, const StoredProfiles& before,
                         const std::string& source, const std::string& message);

}  // namespace shackd
