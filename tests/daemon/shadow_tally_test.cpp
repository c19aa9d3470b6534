// Shadow mode's day in figures (daemon/report/shadow_tally.hpp): each spell costed minute by
// minute against a hand-built day, so that every figure can be checked by hand.
#include <doctest/doctest.h>

#include <algorithm>

#include "daemon/report/shadow_tally.hpp"
#include "daemon/site/loads.hpp"
#include "daemon/store/profile_store.hpp"
#include "tests/store/fixture.hpp"

namespace {
constexpr std::int64_t kStart = 1795420800;  // a local midnight

shackd::report::Minute minute(std::int64_t t, double v_min, double v_avg, double pv_w, double load_w) {
  return {t, v_min, v_avg, v_avg, pv_w, load_w};
}
}  // namespace

TEST_CASE("shadow tally: what shackd would have used and what the other controller spent, surplus first") {
  test::MigratedDb m;
  const shackd::StoredProfiles profiles = shackd::load_profiles(m.db);
  const auto refs = shackd::load_refs(profiles);
  const auto primary = std::find_if(refs.begin(), refs.end(), [](const auto& l) { return l.kind == shackd::LoadRef::Kind::miner; });
  REQUIRE(primary != refs.end());
  const double rated_w = shackd::rated_draw_w(profiles.rules, *primary);
  REQUIRE(rated_w > 1000);
  const double stop_v = rules::effective_thresholds(profiles.rules.miners[primary->index], profiles.rules.site).stop_v;

  shackd::report::Day day;
  day.start = kStart;
  day.end = kStart + 24 * 3600;
  // 10:00-10:02: 5,000 W of PV, the rest of the site 1,000 W: the surplus covers the miner.
  // 20:00-20:02: no PV, 1,000 W + the miner on the relay; the lowest voltage below its stop.
  day.minutes = {minute(kStart + 10 * 3600, 52.0, 52.5, 5000, 1000), minute(kStart + 10 * 3600 + 60, 52.0, 52.5, 5000, 1000),
                 minute(kStart + 20 * 3600, stop_v - 0.5, 50.0, 0, 1000 + rated_w),
                 minute(kStart + 20 * 3600 + 60, stop_v + 0.5, 50.0, 0, 1000 + rated_w)};
  shackd::report::LoadLine line{primary->id, primary->name, false, {}, {}, {}, {}, {}};
  line.shadow = {{kStart + 10 * 3600, kStart + 10 * 3600 + 120, true, false, "surplus"},
                 {kStart + 20 * 3600, kStart + 20 * 3600 + 120, false, true, "below stop voltage"},
                 // Agreement is no spell; one wholly before the day counts nothing.
                 {kStart + 21 * 3600, kStart + 21 * 3600 + 60, true, true, "no disagreement"},
                 {kStart - 7200, kStart - 3600, true, false, "yesterday"}};
  day.loads.push_back(line);
  day.loads.push_back({"quiet", "Quiet", false, {}, {}, {}, {}, {}});  // never disagreed: no line

  const auto tally = shackd::report::shadow_tally(day, profiles);
  REQUIRE(tally.size() == 1);
  const auto& t = tally[0];
  CHECK(t.rated_w == doctest::Approx(rated_w));
  CHECK(t.would_run.spells == 1);
  CHECK(t.would_run.minutes == doctest::Approx(2));
  CHECK(t.would_run.surplus_kwh == doctest::Approx(rated_w * 120 / 3600 / 1000));
  CHECK(t.would_run.battery_ah == doctest::Approx(0));
  CHECK(t.would_run.minutes_under_stop == doctest::Approx(0));  // shackd's own starts are not judged by it
  CHECK(t.ran_instead.spells == 1);
  CHECK(t.ran_instead.minutes == doctest::Approx(2));
  CHECK(t.ran_instead.surplus_kwh == doctest::Approx(0));
  CHECK(t.ran_instead.battery_ah == doctest::Approx(rated_w / 50.0 * 120 / 3600));
  CHECK(t.ran_instead.minutes_under_stop == doctest::Approx(1));

  const auto lines = shackd::report::shadow_tally_lines(tally);
  REQUIRE(lines.size() == 2);
  MESSAGE(lines[1]);
  CHECK(lines[1].find("shackd would have run it 1 time(s), 2.0 min, using 0.13 kWh of surplus and 0.0 Ah of the bank") !=
        std::string::npos);
  CHECK(lines[1].find("it ran where shackd would not 1 time(s), 2.0 min, spending 0.00 kWh of surplus and 2.6 Ah of the bank, 1.0 min below its stop voltage") !=
        std::string::npos);
}

TEST_CASE("shadow tally: a spell still open runs to the day's end; minutes without telemetry are said, not costed") {
  test::MigratedDb m;
  const shackd::StoredProfiles profiles = shackd::load_profiles(m.db);
  const auto refs = shackd::load_refs(profiles);
  shackd::report::Day day;
  day.start = kStart;
  day.end = kStart + 24 * 3600;
  shackd::report::LoadLine line{refs.at(0).id, refs.at(0).name, false, {}, {}, {}, {}, {}};
  line.shadow = {{day.end - 300, 0, true, false, "open"}};
  day.loads.push_back(line);
  day.minutes = {{day.end - 300, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt}};
  const auto tally = shackd::report::shadow_tally(day, profiles);
  REQUIRE(tally.size() == 1);
  CHECK(tally[0].would_run.minutes == doctest::Approx(5));
  CHECK(tally[0].would_run.minutes_not_costed == doctest::Approx(1));
  CHECK(tally[0].would_run.surplus_kwh == 0);
  CHECK(shackd::report::shadow_tally_lines(tally).at(1).find("(1.0 min with no telemetry, not costed)") != std::string::npos);
}
