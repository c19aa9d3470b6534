#include "daemon/store/charge_limit_rows.hpp"

#include "daemon/store/runtime_store.hpp"

namespace shackd {

std::map<std::string, ChargeLimitRow> load_charge_limits(db::Db& db) {
  auto s = db.prepare("SELECT name, applied, saved FROM charge_limits");
  std::map<std::string, ChargeLimitRow> out;
  while (s.step()) out[s.text(0)] = {s.integer(1) != 0, static_cast<std::int16_t>(s.integer(2))};
  return out;
}

void save_charge_limit(db::Db& db, const std::string& name, const ChargeLimitRow& row, std::int64_t unix_now) {
  db.prepare("INSERT INTO charge_limits (name, applied, saved, updated_at) VALUES (?1, ?2, ?3, ?4) "
             "ON CONFLICT (name) DO UPDATE SET applied = ?2, saved = ?3, updated_at = ?4")
      .bind(1, name)
      .bind(2, row.applied)
      .bind(3, static_cast<int>(row.saved))
      .bind(4, iso_utc(unix_now))
      .run();
}

}  // namespace shackd
