#include "daemon/store/last_run.hpp"

#include "daemon/store/runtime_store.hpp"  // iso_utc

namespace shackd {

LastRun read_last_run(db::Db& db) {
  LastRun r;
  // Times are ISO 8601 UTC text, or unix seconds (the journal); strftime('%s') reads the text.
  auto s = db.prepare(
      "SELECT max(v) FROM ("
      " SELECT CAST(strftime('%s', max(at)) AS INTEGER) AS v FROM events"
      " UNION ALL SELECT CAST(strftime('%s', max(updated_at)) AS INTEGER) FROM load_state"
      " UNION ALL SELECT CAST(strftime('%s', max(minute)) AS INTEGER) + 60 FROM telemetry"
      " UNION ALL SELECT max(minute_s) + 60 FROM cycle_journal)");
  if (s.step() && !s.is_null(0)) r.last_record_s = s.integer(0);
  auto l = db.prepare("SELECT detail FROM events WHERE kind = 'lifecycle' ORDER BY id DESC LIMIT 1");
  if (l.step() && !l.is_null(0)) r.stopped_cleanly = l.text(0) == "stopped";
  auto b = db.prepare("SELECT boot_id FROM host_boot WHERE singleton = 1");
  if (b.step() && !b.is_null(0)) r.boot_id = b.text(0);
  return r;
}

void write_host_boot(db::Db& db, const std::string& boot_id, std::int64_t wall_s) {
  db.prepare("INSERT INTO host_boot (singleton, boot_id, started_at) VALUES (1, ?1, ?2) "
             "ON CONFLICT (singleton) DO UPDATE SET boot_id = excluded.boot_id, started_at = excluded.started_at")
      .bind(1, boot_id)
      .bind(2, iso_utc(wall_s))
      .run();
}

}  // namespace shackd
