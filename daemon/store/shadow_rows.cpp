#include "daemon/store/shadow_rows.hpp"

#include <utility>

namespace shackd {

void save_shadow_row(db::Db& db, const ShadowRow& row) {
  // The same row in either table; a candidate's keeps its changes besides.
  auto s = db.prepare(row.candidate ? "INSERT INTO candidate_differences (load_id, start_ms, end_ms, candidate_on, in_force_on, "
                                      "reason_code, reason, cycles, candidate) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                                      "ON CONFLICT (load_id, start_ms) DO UPDATE SET end_ms = ?3, cycles = ?8"
                                    : "INSERT INTO shadow_disagreements (load_id, start_ms, end_ms, would_on, actual_on, "
                                      "reason_code, reason, cycles) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                                      "ON CONFLICT (load_id, start_ms) DO UPDATE SET end_ms = ?3, cycles = ?8");
  s.bind(1, row.load_id)
      .bind(2, row.start_ms)
      .bind(3, row.end_ms)
      .bind(4, row.would_on)
      .bind(5, row.actual_on)
      .bind(6, row.reason_code)
      .bind(7, row.reason)
      .bind(8, row.cycles);
  if (row.candidate) s.bind(9, row.candidate_sets);
  s.run();
}

void prune_shadow_rows(db::Db& db, std::int64_t before_ms) {
  db.prepare("DELETE FROM shadow_disagreements WHERE end_ms IS NOT NULL AND end_ms < ?1").bind(1, before_ms).run();
  db.prepare("DELETE FROM candidate_differences WHERE end_ms IS NOT NULL AND end_ms < ?1").bind(1, before_ms).run();
}

std::vector<ShadowRow> load_shadow_rows(db::Db& db, std::int64_t since_ms, int limit, bool candidate) {
  auto s = db.prepare(candidate ? "SELECT load_id, start_ms, end_ms, candidate_on, in_force_on, reason_code, reason, cycles, candidate "
                                  "FROM candidate_differences WHERE end_ms IS NULL OR end_ms >= ?1 ORDER BY start_ms, load_id LIMIT ?2"
                                : "SELECT load_id, start_ms, end_ms, would_on, actual_on, reason_code, reason, cycles, '' "
                                  "FROM shadow_disagreements WHERE end_ms IS NULL OR end_ms >= ?1 ORDER BY start_ms, load_id LIMIT ?2");
  s.bind(1, since_ms).bind(2, limit);
  std::vector<ShadowRow> out;
  while (s.step()) {
    ShadowRow r;
    r.candidate = candidate;
    r.load_id = s.text(0);
    r.start_ms = s.integer(1);
    if (!s.is_null(2)) r.end_ms = s.integer(2);
    r.would_on = s.integer(3) != 0;
    r.actual_on = s.integer(4) != 0;
    r.reason_code = static_cast<int>(s.integer(5));
    r.reason = s.text(6);
    r.cycles = s.integer(7);
    r.candidate_sets = s.text(8);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace shackd
