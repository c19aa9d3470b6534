// The AC overload hold across a restart (issue 59): each source's phase's last overload written
// sparingly, read back by the next start and turned into the hold the run would have kept.
#include "tests/store/fixture.hpp"

#include <chrono>
#include <limits>
#include <memory>

#include "daemon/store/ac_overload_rows.hpp"

using namespace std::chrono_literals;
using shackd::AcOverloadRow;
using shackd::AcOverloadRows;

namespace ac_overload_test {

constexpr std::int64_t kWall0 = 1795300000;  // 2026-11-21T...
const rules::SteadyTime kSteady0 = rules::SteadyTime{} + 1000h;

// A split-phase inverter with a 300 s hold, and a generator with none.
rules::Profiles split_site() {
  rules::Profiles p;
  rules::AcSource inv;
  inv.name = "inverter";
  inv.phases = 2;
  inv.continuous_w = 5000;
  rules::AcSource gen;
  gen.name = "generator";
  gen.kind = rules::AcSourceKind::generator;
  gen.overload_hold = 0s;
  p.ac_sources = {inv, gen};
  return p;
}

// The run: cycles every 2 s from kSteady0 / kWall0; `over(k)` says whether cycle k is overloaded
// on the inverter's L2. Each cycle's rows are handed to `written` and the database, as StoreSide
// and the recorder do.
struct Run {
  rules::Profiles p = split_site();
  rules::SiteState site;
  AcOverloadRows written;
  int writes = 0;
  void cycle(shackd::db::Db& db, int k, bool over) {
    const auto now = kSteady0 + std::chrono::seconds(2 * k);
    if (over) site.ac[0][1].overload_at = now;  // what rules/ac_budget.cpp does
    for (const auto& [key, row] : shackd::ac_overload_changes(p, site, written, now, kWall0 + 2 * k)) {
      shackd::save_ac_overload(db, key, row, kWall0 + 2 * k);
      ++writes;
    }
  }
};

std::unique_ptr<shackd::db::Db> open_db(const std::string& path) {
  auto db = std::make_unique<shackd::db::Db>(path, shackd::db::OpenOptions{.create = true});
  shackd::migrate(*db, shackd::embedded_migrations());
  return db;
}

}  // namespace ac_overload_test

using namespace ac_overload_test;

TEST_CASE("AC overload: its end written once it settled, read back by a restart that holds the rest of the hold") {
  test::TempDir dir;
  const std::string path = dir.file("s.db");
  Run run;
  {
    auto db = open_db(path);
    run.cycle(*db, 0, false);
    CHECK(run.writes == 0);  // no overload, no row
    run.cycle(*db, 1, true);  // overloaded at kWall0 + 2: the row, ongoing, at once
    CHECK(run.writes == 1);
    CHECK(shackd::load_ac_overloads(*db).at({"inverter", 2}) == AcOverloadRow{kWall0 + 2, true});
    // A warning that comes and goes writes nothing while it does.
    run.cycle(*db, 2, false);
    run.cycle(*db, 3, true);  // the last overloaded cycle: kWall0 + 6
    run.cycle(*db, 4, false);
    run.cycle(*db, 5, true);
    run.cycle(*db, 6, false);
    CHECK(run.writes == 1);
    for (int k = 7; k <= 15; ++k) run.cycle(*db, k, false);  // clear for 10 s from cycle 5 (kWall0 + 10): at cycle 10
    CHECK(run.writes == 2);
    CHECK(shackd::load_ac_overloads(*db).at({"inverter", 2}) == AcOverloadRow{kWall0 + 10, false});
    CHECK(shackd::load_ac_overloads(*db).size() == 1);  // L1 never overloaded; the generator has no hold
  }
  // The restart, 40 s after the last overload, on a monotonic clock that began again (a reboot).
  auto db = open_db(path);
  const AcOverloadRows rows = shackd::load_ac_overloads(*db);
  rules::SiteState site;
  const auto steady = rules::SteadyTime{} + 5s;
  const auto said = shackd::restore_ac_overloads(run.p, rows, site, steady, kWall0 + 50);
  REQUIRE(site.ac[0][1].overload_at);
  CHECK(*site.ac[0][1].overload_at == steady - 40s);  // the hold runs out 260 s from now, as it would have
  CHECK_FALSE(site.ac[0][0].overload_at);
  REQUIRE(said.size() == 1);
  CHECK(said[0].starts_with("inverter L2: overloaded 40 s before this start (at "));
  CHECK(said[0].ends_with("; starts held 260 s more (overload_hold_s 300)"));
}

TEST_CASE("AC overload: a stop during the overload (a trip that took the Pi) holds the whole hold from the start") {
  test::TempDir dir;
  const std::string path = dir.file("s.db");
  Run run;
  {
    auto db = open_db(path);
    run.cycle(*db, 0, true);
    run.cycle(*db, 1, false);  // killed 2 s after: the end not written
  }
  auto db = open_db(path);
  rules::SiteState site;
  const auto said = shackd::restore_ac_overloads(run.p, shackd::load_ac_overloads(*db), site, kSteady0, kWall0 + 3600);
  REQUIRE(site.ac[0][1].overload_at);
  CHECK(*site.ac[0][1].overload_at == kSteady0);
  REQUIRE(said.size() == 1);
  CHECK(said[0].starts_with("inverter L2: overloaded when shackd stopped (since "));
  CHECK(said[0].ends_with("starts held 300 s more (overload_hold_s 300)"));
  // The next run writes its end once the restored hold has settled: the start's instant.
  AcOverloadRows written = shackd::load_ac_overloads(*db);
  CHECK(shackd::ac_overload_changes(run.p, site, written, kSteady0 + 4s, kWall0 + 3604).empty());
  const auto later = shackd::ac_overload_changes(run.p, site, written, kSteady0 + 10s, kWall0 + 3610);
  REQUIRE(later.size() == 1);
  CHECK(later.at({"inverter", 2}) == AcOverloadRow{kWall0 + 3600, false});
}

TEST_CASE("AC overload: a wall clock that jumped holds at most one overload_hold, and an old row nothing") {
  const rules::Profiles p = split_site();
  const auto restore = [&](AcOverloadRow row, std::int64_t wall_now) {
    rules::SiteState site;
    const auto said = shackd::restore_ac_overloads(p, {{{"inverter", 1}, row}}, site, kSteady0, wall_now);
    return std::make_pair(site.ac[0][0].overload_at, said);
  };
  // Back: the overload "after" now counts as now: the whole hold, no more.
  auto [back, back_said] = restore({kWall0 + 86400 * 365, false}, kWall0);
  REQUIRE(back);
  CHECK(*back == kSteady0);
  REQUIRE(back_said.size() == 1);
  CHECK(back_said[0].find("wall clock (it went back)") != std::string::npos);
  CHECK(back_said[0].ends_with("starts held 300 s more (overload_hold_s 300)"));
  // Forward, or shackd away longer than the hold: nothing held.
  CHECK_FALSE(restore({kWall0, false}, kWall0 + 300).first);
  CHECK_FALSE(restore({kWall0, false}, kWall0 + 86400 * 365 * 10).first);
  CHECK(restore({kWall0, false}, kWall0 + 299).first == kSteady0 - 299s);
  // A hostile row: no overflow into a time point, never more than the hold.
  CHECK_FALSE(restore({std::numeric_limits<std::int64_t>::min(), false}, kWall0).first);
  CHECK(restore({std::numeric_limits<std::int64_t>::max(), false}, kWall0).first == kSteady0);
  // A source renamed, a phase gone, a source with no hold: its row holds nothing.
  rules::SiteState site;
  CHECK(shackd::restore_ac_overloads(p, {{{"old_name", 1}, {kWall0, true}}, {{"inverter", 3}, {kWall0, true}},
                                         {{"generator", 1}, {kWall0, true}}},
                                     site, kSteady0, kWall0)
            .empty());
  for (const auto& source : site.ac) {
    for (const auto& phase : source) CHECK_FALSE(phase.overload_at);
  }
}
