// On the opener's thread (daemon/loop/store_open.hpp): a card that takes seconds a read holds
// this thread only, never the loop's.
#include "daemon/loop/store_open.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>

#include "daemon/store/migrate.hpp"
#include "daemon/system/exit_codes.hpp"
#include "daemon/system/log.hpp"

namespace shackd {

OpenedStore open_store(const Config& config, std::int64_t wall_s, bool read_charge_limits) {
  OpenedStore o;
  try {
    // A card that cannot take a write leaves the site controlled from a copy in memory (issue 48).
    o.run = open_run_database(config.database_path, embedded_migrations());
    const auto& m = o.run.migrated;
    if (!o.run.in_memory_because) {
      if (struct stat st{}; ::stat(config.database_path.c_str(), &st) == 0) o.file = std::make_pair(st.st_dev, st.st_ino);
    }
    if (!m.applied.empty()) log::info("database {}: migrated to schema version {}", config.database_path, m.applied.back());
    if (m.backup_path) log::info("database {}: backup before migrating: {}", config.database_path, *m.backup_path);
    o.loaded = load_site(*o.run.db, config, true);
    if (!o.loaded.ok || !o.loaded.ready) {
      o.exit_code = kExConfig;
      return o;
    }
    o.store = std::make_unique<RuntimeStore>(*o.run.db);
    o.id = site_identity(*o.run.db, config.site_name, wall_s);
    o.rows = o.store->load_states();
    o.last_run = read_last_run(*o.run.db);
    try {
      o.ac_overloads = load_ac_overloads(*o.run.db);
    } catch (const db::Error& e) {
      o.ac_overload_failed = e.what();
    }
    if (read_charge_limits) {
      try {
        o.charge_rows = load_charge_limits(*o.run.db);
      } catch (const db::Error& e) {
        o.charge_failed = e.what();
      }
    }
    // From here on the recorder writes: waiting the default 5 s for another writer (a `sqlite3`
    // shell, a backup) would only delay the history, but a short wait lets the recorder take
    // what the core handed over meanwhile. A busy flush keeps its queue for the next try (the
    // DB-locked row of the fault matrix).
    sqlite3_busy_timeout(o.run.db->raw(), static_cast<int>(std::clamp<long long>(config.interval.count() / 4, 10, 250)));
  } catch (const MigrationError& e) {
    log::error("database {}: refused:\n{}", config.database_path, e.what());
    // A full disk is not a wrong config: 75 is restarted by the unit (RestartPreventExitStatus=78
    // is not), so the site is controlled again once space is freed.
    o.exit_code = e.temporary() ? kExTempFail : kExConfig;
  } catch (const db::Error& e) {
    log::error("{}{}", e.what(), e.temporary() ? " (temporary: the service is restarted and tries again)" : "");
    o.exit_code = e.temporary() ? kExTempFail : kExDataErr;
  } catch (const std::exception& e) {
    log::error("{}", e.what());
    o.exit_code = kExConfig;
  }
  if (o.exit_code) {  // nothing of it is used: closed here, on this thread
    o.store.reset();
    o.run.db.reset();
  }
  return o;
}

}  // namespace shackd
