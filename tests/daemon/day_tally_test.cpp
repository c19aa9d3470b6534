// The second opinions' day in figures, live (daemon/shadow/day_tally.hpp): spells, minutes, what
// the load's draw took from the surplus and the bank, minutes under its stop voltage, starts, and a
// new local day that starts them again. Values worked by hand beside each check.
#include "daemon/shadow/day_tally.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace shackd;

namespace {

TallyCycle cycle(const std::string& day, double dt_s, bool would_on, std::optional<bool> actual_on, bool opened = false,
                 double battery_v = 52.0) {
  TallyCycle c;
  c.day = day;
  c.dt_s = dt_s;
  c.pv_w = 3000;
  c.load_w = 1000;  // the rest of the site, and the load's 2,000 W where it is on
  c.battery_v = battery_v;
  c.loads.push_back({"p", "Primary", would_on, actual_on, 2000, 47.0, opened});
  return c;
}

}  // namespace

TEST_CASE("day tally: each way's spells, minutes and energy, the starts, and a new day") {
  DayTally t;
  t.add(cycle("2026-11-28", 0, false, false));  // agree, OFF: the first cycle starts nothing
  // 10 min in which shackd would run it and the site has it OFF: 3,000 W of PV over 1,000 W of
  // house leaves 2,000 W, all of its draw: 2 kW x 1/6 h = 0.333 kWh of surplus, no Ah.
  t.add(cycle("2026-11-28", 600, true, false, true));
  auto f = t.loads().at("p");
  CHECK(f.would_run.spells == 1);
  CHECK(f.would_run.minutes == doctest::Approx(10));
  CHECK(f.would_run.surplus_kwh == doctest::Approx(2000.0 * 600 / 3600 / 1000));
  CHECK(f.would_run.bank_ah == doctest::Approx(0));
  CHECK(f.would_starts == 1);
  CHECK(f.actual_starts == 0);
  // Both ON: they agree; the site's start counted.
  t.add(cycle("2026-11-28", 60, true, true));
  f = t.loads().at("p");
  CHECK(f.actual_starts == 1);
  CHECK(f.would_run.minutes == doctest::Approx(10));
  // The site runs it where shackd would not, at 46 V (below its 47 V stop), for 6 min. Its relay
  // is on, so the site's 1,000 W include its draw: the house is max(0, 1,000 - 2,000) = 0 W, and
  // all 3,000 W of PV is surplus: its 2,000 W from the surplus, no Ah.
  auto c = cycle("2026-11-28", 360, false, true, true, 46.0);
  t.add(c);
  f = t.loads().at("p");
  CHECK(f.ran_instead.spells == 1);
  CHECK(f.ran_instead.minutes == doctest::Approx(6));
  CHECK(f.ran_instead.minutes_under_stop == doctest::Approx(6));
  CHECK(f.ran_instead.surplus_kwh == doctest::Approx(2000.0 * 360 / 3600 / 1000));
  // At night (no PV) a further 30 min: all from the bank, 2,000 W / 46 V x 0.5 h = 21.7 Ah; a new
  // reason (opened again) is a new spell, as in the database.
  c = cycle("2026-11-28", 1800, false, true, true, 46.0);
  c.pv_w = 0;
  t.add(c);
  f = t.loads().at("p");
  CHECK(f.ran_instead.spells == 2);
  CHECK(f.ran_instead.bank_ah == doctest::Approx(2000.0 / 46.0 * 0.5));
  // A relay that says nothing: neither way; shackd's decision ON again is its second start.
  t.add(cycle("2026-11-28", 60, true, std::nullopt));
  f = t.loads().at("p");
  CHECK(f.would_run.minutes == doctest::Approx(10));
  CHECK(f.ran_instead.minutes == doctest::Approx(36));
  const std::string j = t.json(false);
  CHECK(j.find(R"("day":"2026-11-28","spells":3,"minutes":46.0,"loads":{"p":{"name":"Primary","rated_w":2000,)") != std::string::npos);
  CHECK(j.find(R"("starts":{"would":2,"actual":1})") != std::string::npos);
  CHECK(t.json(true).find(R"("starts":{"candidate":2,"in_force":1})") != std::string::npos);
  // The next local day starts again from nothing; what runs at its first cycle is no start, and a
  // load with nothing to say is left out of the document.
  t.add(cycle("2026-11-29", 60, true, true));
  CHECK(t.day() == "2026-11-29");
  CHECK(t.json(false) == R"({"day":"2026-11-29","spells":0,"minutes":0.0,"loads":{}})");
  f = t.loads().at("p");
  CHECK(f.would_run.spells + f.ran_instead.spells == 0);
  CHECK(f.would_starts + f.actual_starts == 0);
}
