#include "daemon/store/ac_overload_rows.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>

#include "daemon/store/runtime_store.hpp"

namespace shackd {

namespace {

std::string phase_name(const rules::AcSource& src, std::size_t ph) {
  return src.phases > 1 ? fmt::format("{} L{}", src.name, ph + 1) : src.name;
}

std::int64_t whole_s(rules::Duration d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); }

}  // namespace

AcOverloadRows load_ac_overloads(db::Db& db) {
  auto s = db.prepare("SELECT source, phase, last_s, ongoing FROM ac_overload");
  AcOverloadRows out;
  while (s.step()) out[{s.text(0), static_cast<int>(s.integer(1))}] = {s.integer(2), s.integer(3) != 0};
  return out;
}

void save_ac_overload(db::Db& db, const AcOverloadKey& key, const AcOverloadRow& row, std::int64_t unix_now) {
  db.prepare("INSERT INTO ac_overload (source, phase, last_s, ongoing, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) "
             "ON CONFLICT (source, phase) DO UPDATE SET last_s = ?3, ongoing = ?4, updated_at = ?5")
      .bind(1, key.first)
      .bind(2, key.second)
      .bind(3, row.last_s)
      .bind(4, row.ongoing)
      .bind(5, iso_utc(unix_now))
      .run();
}

AcOverloadRows ac_overload_changes(const rules::Profiles& profiles, const rules::SiteState& site, AcOverloadRows& written,
                                   rules::SteadyTime steady_now, std::int64_t wall_now_s) {
  AcOverloadRows out;
  for (std::size_t s = 0; s < rules::ac_source_count(profiles); ++s) {
    const rules::AcSource& src = rules::ac_source(profiles, s);
    if (src.overload_hold <= rules::Duration{0}) continue;
    for (std::size_t ph = 0; ph < src.phases && ph < rules::kMaxAcPhases; ++ph) {
      const auto& at = site.ac[s][ph].overload_at;
      const AcOverloadKey key{src.name, static_cast<int>(ph) + 1};
      const auto w = written.find(key);
      const bool ongoing = w != written.end() && w->second.ongoing;
      std::optional<AcOverloadRow> row;
      if (at && *at == steady_now) {  // overloaded this cycle (rules/ac_budget.cpp: overload_at = now)
        if (!ongoing) row = AcOverloadRow{wall_now_s, true};
      } else if (ongoing && !at) {
        // The hold ran out (one shorter than the settle): the row's instant is as good as any.
        row = AcOverloadRow{w->second.last_s, false};
      } else if (ongoing && steady_now - *at >= kAcOverloadSettle) {
        row = AcOverloadRow{wall_now_s - whole_s(steady_now - *at), false};
      }
      if (!row) continue;
      written[key] = *row;
      out[key] = *row;
    }
  }
  return out;
}

std::vector<std::string> restore_ac_overloads(const rules::Profiles& profiles, const AcOverloadRows& rows,
                                              rules::SiteState& site, rules::SteadyTime steady_now,
                                              std::int64_t wall_now_s) {
  std::vector<std::string> said;
  for (std::size_t s = 0; s < rules::ac_source_count(profiles); ++s) {
    const rules::AcSource& src = rules::ac_source(profiles, s);
    if (src.overload_hold <= rules::Duration{0}) continue;
    const std::int64_t hold_s = whole_s(src.overload_hold);
    for (std::size_t ph = 0; ph < src.phases && ph < rules::kMaxAcPhases; ++ph) {
      const auto it = rows.find({src.name, static_cast<int>(ph) + 1});
      if (it == rows.end()) continue;
      const AcOverloadRow& row = it->second;
      // Compared before any conversion: a hostile or absurd last_s never reaches a time_point.
      std::int64_t age_s = 0;
      if (!row.ongoing) {
        if (row.last_s <= wall_now_s - hold_s) continue;  // the hold ran out while shackd was away
        age_s = row.last_s < wall_now_s ? wall_now_s - row.last_s : 0;  // in the future: the clock went back
      }
      const std::int64_t left_s = hold_s - age_s;
      site.ac[s][ph].overload_at = steady_now - std::chrono::seconds(age_s);
      const std::string when =
          row.ongoing ? fmt::format("overloaded when shackd stopped (since {}, or within {} s of its end)", iso_utc(row.last_s),
                                    whole_s(kAcOverloadSettle))
          : row.last_s > wall_now_s
              ? fmt::format("overloaded at {}, after this start's wall clock (it went back): counted as now", iso_utc(row.last_s))
              : fmt::format("overloaded {} s before this start (at {})", age_s, iso_utc(row.last_s));
      said.push_back(fmt::format("{}: {}; starts held {} s more (overload_hold_s {})", phase_name(src, ph), when, left_s,
                                 hold_s));
    }
  }
  return said;
}

}  // namespace shackd
