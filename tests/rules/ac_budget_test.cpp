// The AC budget (issue 59): a start waits for room on the source and phase that feed it, an
// overload sheds the lowest-priority load on it one a cycle (heating loads last), and a reading
// that is missing, stale or absurd never permits a start that a known one would refuse.
#include <algorithm>
#include <limits>

#include "harness.hpp"

using namespace std::chrono_literals;
using rules::OverrideMode;
using rules::ReasonCode;

namespace {

// Both miners want to run: a full bank, a sunny day, a small house load; no timers.
test::Site sunny() {
  test::Site s;
  s.instant();
  s.monitor_v = 55.0;
  s.pv_w = 12000;
  s.load_w = 500;
  s.p.miners[1].require_sunny = false;  // no ten-minute sunny window to wait out
  s.p.zones[0].heater_power_w = s.p.zones[1].heater_power_w = 1500;  // a rated source needs each draw
  return s;
}

rules::AcSource inverter(double continuous_w, std::size_t phases = 1) {
  rules::AcSource a;
  a.name = "inverter";
  a.phases = phases;
  a.continuous_w = continuous_w;
  a.surge_w = 2 * continuous_w;
  a.margin_w = 200;
  return a;
}

// Both miners on, on an unrated default source.
test::Site both_running() {
  auto s = sunny();
  s.step(10s);
  REQUIRE(s.primary().on);
  REQUIRE(s.dump().on);
  return s;
}

}  // namespace

TEST_CASE("no AC source configured: nothing is held, and no readings are needed") {
  auto s = sunny();
  s.step(10s);
  CHECK(s.primary().on);
  CHECK(s.dump().on);  // both in one cycle: the stagger is 0 here and the default source has no rating
}

TEST_CASE("a start that would pass the continuous rating less the margin waits, with the room and the draw") {
  auto s = sunny();
  s.p.ac_sources = {inverter(6000)};
  s.ac[0].phase[0].load_w = 500;
  s.step(10s);
  CHECK(s.primary().on);  // 500 + 3878 + 200 <= 6000
  // The primary's start this cycle is counted: 6000 - 200 - 500 - 3878 = 1422 W left.
  CHECK_FALSE(s.dump().on);
  CHECK(s.dump().reason.code == ReasonCode::ac_budget);
  CHECK(s.dump().reason.value == doctest::Approx(1422));
  CHECK(s.dump().reason.limit == doctest::Approx(3250));
  CHECK(rules::describe(s.dump().reason) == "start held: room left on inverter: 1422 W (the start needs 3250 W)");

  // The next cycle the primary is not drawing yet: its rating counts, not the 500 W measured.
  s.step(10s);
  CHECK(s.dump().reason.code == ReasonCode::ac_budget);
  CHECK(s.dump().reason.value == doctest::Approx(6000 - 200 - 3878));
  // It draws; the house with it: 4,400 W.
  s.ac[0].phase[0].load_w = 4400;
  s.step(10s);
  CHECK(s.dump().reason.value == doctest::Approx(1400));
  CHECK_FALSE(s.dump().on);
  // A larger inverter has room.
  s.p.ac_sources = {inverter(8000)};
  s.step(10s);
  CHECK(s.dump().on);
}

TEST_CASE("an AC load not known holds a start on a rated source, as a known load that refuses it would") {
  auto s = sunny();
  s.p.ac_sources = {inverter(8000)};
  SUBCASE("known, too high: refused") {
    s.ac[0].phase[0].load_w = 5000;
    s.step(10s);
    CHECK(s.primary().reason.code == ReasonCode::ac_budget);
  }
  SUBCASE("never read") {
    s.step(10s);
    CHECK_FALSE(s.primary().on);
    CHECK(s.primary().reason.code == ReasonCode::ac_load_unknown);
    CHECK(rules::describe(s.primary().reason) == "start held: AC load not known on inverter (the start needs 3878 W)");
  }
  SUBCASE("NaN") {
    s.ac[0].phase[0].load_w = std::numeric_limits<double>::quiet_NaN();
    s.step(10s);
    CHECK(s.primary().reason.code == ReasonCode::ac_load_unknown);
  }
  SUBCASE("absurd: a wrong scale or a sentinel") {
    s.ac[0].phase[0].load_w = 1e9;
    s.step(10s);
    CHECK(s.primary().reason.code == ReasonCode::ac_load_unknown);
    s.ac[0].phase[0].load_w = -1e9;
    s.step(10s);
    CHECK(s.primary().reason.code == ReasonCode::ac_load_unknown);
    s.ac[0].phase[0].load_w = std::numeric_limits<double>::infinity();
    s.step(10s);
    CHECK(s.primary().reason.code == ReasonCode::ac_load_unknown);
  }
  SUBCASE("stale") {
    s.ac[0].phase[0].load_w = 500;
    s.ac[0].phase[0].load_w.freeze();
    s.step(0s);
    s.step(40s);  // past electrical_stale_after (30 s)
    CHECK_FALSE(s.primary().on);
    CHECK(s.primary().reason.code == ReasonCode::ac_load_unknown);
  }
  CHECK_FALSE(s.primary().on);
  CHECK_FALSE(s.dump().on);
}

TEST_CASE("a small negative AC load (PV feeding back through the output) counts as 0 W") {
  auto s = sunny();
  s.p.ac_sources = {inverter(4100)};
  s.ac[0].phase[0].load_w = -150;
  s.step(10s);
  CHECK(s.primary().on);  // 0 + 3878 + 200 <= 4100: had -150 counted, so would 4,000 W more
}

TEST_CASE("a load already on stays on when the AC load reading is lost") {
  auto s = sunny();
  s.p.ac_sources = {inverter(6000)};
  s.ac[0].phase[0].load_w = 500;
  s.step(10s);
  REQUIRE(s.primary().on);
  REQUIRE(s.dump().reason.code == ReasonCode::ac_budget);
  s.ac[0].phase[0].load_w.missing();
  s.run(60s);
  CHECK(s.primary().on);
  CHECK(s.dump().reason.code == ReasonCode::ac_load_unknown);
}

TEST_CASE("split phase: each leg has its own budget, and a leg's overload sheds only its loads") {
  auto s = sunny();
  s.p.ac_sources = {inverter(4500, 2)};
  s.p.miners[0].feed = {0, 0};  // primary on L1
  s.p.miners[1].feed = {0, 1};  // dump on L2
  s.ac[0].phase[0].load_w = 300;
  s.ac[0].phase[1].load_w = 2000;
  s.step(10s);
  CHECK(s.primary().on);  // L1: 4500 - 200 - 300 = 4000 >= 3878
  CHECK(s.dump().reason.code == ReasonCode::ac_budget);
  CHECK(rules::describe(s.dump().reason) == "start held: room left on inverter L2: 2300 W (the start needs 3250 W)");
  s.ac[0].phase[1].load_w = 1000;
  s.step(10s);
  CHECK(s.dump().on);

  s.ac[0].phase[1].overload = 1;
  s.step(10s);
  CHECK_FALSE(s.dump().on);
  CHECK(s.dump().reason.code == ReasonCode::ac_overload);
  CHECK(rules::describe(s.dump().reason) == "shed: overload on inverter L2: 1000 W (rating 4500 W)");
  s.step(10s);
  CHECK(s.primary().on);  // L1 is fine
}

TEST_CASE("the source's overload warning sheds the lowest priority at once, then the next each cycle") {
  auto s = both_running();
  s.ac[0].overload = 1;  // the whole source: warning
  s.step(10s);
  CHECK(s.primary().on);
  CHECK_FALSE(s.dump().on);
  CHECK(s.dump().reason.code == ReasonCode::ac_overload);
  CHECK(s.dump().safety_stop);  // its relay is cut now, not after a soft stop
  CHECK(rules::describe(s.dump().reason) == "shed: overload on inverter");
  s.ac[0].overload = 2;  // alarm
  s.step(10s);
  CHECK_FALSE(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::ac_overload);
  CHECK(s.dump().reason.code == ReasonCode::ac_overload_hold);

  // Cleared: nothing restarts for overload_hold (300 s) after the last overloaded cycle.
  s.ac[0].overload = 0;
  s.step(10s);
  CHECK(s.primary().reason.code == ReasonCode::ac_overload_hold);
  CHECK(s.primary().reason.remaining == 290s);
  CHECK(rules::describe(s.primary().reason) == "start held: recent overload on inverter, 290 s left");
  s.run(280s);
  CHECK_FALSE(s.primary().on);
  s.step(10s);
  CHECK(s.primary().on);
}

TEST_CASE("an overload word that is not a number, negative or stale is not known; any other value sheds") {
  auto s = both_running();
  SUBCASE("NaN") { s.ac[0].phase[0].overload = std::numeric_limits<double>::quiet_NaN(); }
  SUBCASE("negative") { s.ac[0].phase[0].overload = -1; }
  SUBCASE("stale warning") {
    s.ac[0].phase[0].overload = 1;
    s.ac[0].phase[0].overload.as_of = s.now - 60s;
    s.ac[0].phase[0].overload.frozen = true;
  }
  s.step(10s);
  CHECK(s.dump().on);
  CHECK(s.primary().on);
  s.ac[0].phase[0].overload = 7;  // no value the device defines: more than "ok" is an overload
  s.step(10s);
  CHECK(s.dump().reason.code == ReasonCode::ac_overload);
}

TEST_CASE("a measured load above the rating sheds once it lasts the tolerance") {
  auto s = sunny();
  s.p.ac_sources = {inverter(9000)};
  s.ac[0].phase[0].load_w = 500;
  s.step(10s);
  s.ac[0].phase[0].load_w = 7700;
  s.step(10s);
  REQUIRE(s.dump().on);
  s.p.ac_sources[0].continuous_w = 7000;  // an owner's lower figure: the house is now above it
  s.step(5s);  // above it since now
  s.step(5s);
  CHECK(s.dump().on);  // 5 s of the 10 s tolerance
  s.ac[0].phase[0].load_w.missing();  // a lost reading neither sheds nor ends the tolerance
  s.step(4s);
  CHECK(s.dump().on);
  s.ac[0].phase[0].load_w = 7700;
  s.step(1s);
  CHECK_FALSE(s.dump().on);
  CHECK(rules::describe(s.dump().reason) == "shed: overload on inverter: 7700 W (rating 7000 W)");
  s.step(10s);
  CHECK_FALSE(s.primary().on);  // still above: the next
  s.ac[0].phase[0].load_w = 400;
  s.step(10s);
  CHECK(s.primary().reason.code == ReasonCode::ac_overload_hold);
}

TEST_CASE("a load that heats a zone calling for heat is shed last, a heater after the miners") {
  auto s = sunny();
  s.p.miners[0].priority = 9;  // the primary would go first by priority...
  s.zone_c[0] = -1;            // ...but it heats the Heat Room
  s.zone_c[1] = -6;            // the Main Room's heater runs
  s.step(10s);
  REQUIRE(s.primary().on);
  REQUIRE(s.dump().on);
  REQUIRE(s.main_room().heater.on);
  s.ac[0].overload = 1;
  s.step(10s);
  CHECK_FALSE(s.dump().on);
  CHECK(s.primary().on);
  CHECK(s.main_room().heater.on);
  s.step(10s);
  CHECK_FALSE(s.primary().on);
  CHECK(s.main_room().heater.on);
  s.step(10s);
  CHECK_FALSE(s.main_room().heater.on);
  CHECK(s.main_room().heater.reason.code == ReasonCode::ac_overload);
  // Fans are not shed: they draw tens of watts and cool.
}

TEST_CASE("a heater for a zone that calls for heat starts before a discretionary miner takes its room") {
  // 6,000 W less 200 W of margin, 500 W of house: room for the primary (3,878 W) and then 1,422 W.
  auto s = sunny();
  s.p.ac_sources = {inverter(6000)};
  s.ac[0].phase[0].load_w = 500;
  s.zone_c[1] = -6;  // the Main Room freezes; its heater heats it (its miner's heat does not reach it)
  s.step(10s);
  // Its heater (1,500 W) was held room first: the primary, which fits only without it, waits.
  CHECK(s.main_room().heater.on);
  CHECK_FALSE(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::ac_budget);
  CHECK(s.primary().reason.value == doctest::Approx(6000 - 200 - 500 - 1500));
  CHECK(s.dump().on);  // 3,250 W fits in the 3,800 W the heater left
  // The zone warm again and its heater off: nothing is held for it any more.
  s.zone_c[1] = 5;
  s.step(10s);
  s.step(10s);
  CHECK_FALSE(s.main_room().heater.on);
  CHECK(s.primary().reason.code == ReasonCode::ac_budget);
  CHECK(s.primary().reason.value == doctest::Approx(6000 - 200 - 3250));  // the dump's rating alone

  // A zone its miner heats holds nothing for its heater: the miner is its heat (heat_calls).
  auto m = sunny();
  m.p.ac_sources = {inverter(6000)};
  m.ac[0].phase[0].load_w = 500;
  m.zone_c[0] = -1;  // the Heat Room calls for heat; the primary heats it first
  m.step(10s);
  CHECK(m.primary().on);
}

TEST_CASE("on generator power a heater holds room only where its heater_on_generator lets it start") {
  // As above (6,000 W less 200 W of margin, 500 W of house, the Main Room freezing), with the site
  // on generator power and the miners allowed on it.
  const auto on_generator = [](rules::GeneratorPolicy heater_policy) {
    auto s = sunny();
    s.p.ac_sources = {inverter(6000)};
    s.ac[0].phase[0].load_w = 500;
    s.zone_c[1] = -6;
    s.generator_running = 1;
    s.p.miners[0].on_generator = s.p.miners[1].on_generator = rules::GeneratorPolicy::allow;
    s.p.zones[1].heater_on_generator = heater_policy;
    return s;
  };
  // never: the heater will not start, so its room is the primary's; before, the primary waited
  // for room the heater never took.
  auto never = on_generator(rules::GeneratorPolicy::never);
  never.step(10s);
  CHECK_FALSE(never.main_room().heater.on);
  CHECK(never.main_room().heater.reason.code == ReasonCode::generator_never);
  CHECK(never.primary().on);

  // surplus_only, the sun short of the heater's draw (12,000 W of PV, 11,000 W of site load): the same.
  auto short_of_sun = on_generator(rules::GeneratorPolicy::surplus_only);
  short_of_sun.load_w = 11000;
  short_of_sun.step(10s);
  CHECK_FALSE(short_of_sun.main_room().heater.on);
  CHECK(short_of_sun.main_room().heater.reason.code == ReasonCode::generator_surplus);
  CHECK(short_of_sun.primary().on);

  // surplus_only with the sun's surplus, and allow: it may start, its room is held, the primary waits.
  for (const auto policy : {rules::GeneratorPolicy::surplus_only, rules::GeneratorPolicy::allow}) {
    auto s = on_generator(policy);
    s.step(10s);
    CHECK(s.main_room().heater.on);
    CHECK_FALSE(s.primary().on);
    CHECK(s.primary().reason.code == ReasonCode::ac_budget);
    CHECK(s.primary().reason.value == doctest::Approx(6000 - 200 - 500 - 1500));
  }

  // The generator's state not known, with a generator configured: the heater may not start
  // (generator_unknown), so nothing is held for it.
  auto unknown = on_generator(rules::GeneratorPolicy::never);
  rules::AcSource gen;
  gen.name = "generator";
  gen.kind = rules::AcSourceKind::generator;
  unknown.p.ac_sources.push_back(gen);
  unknown.p.zones[1].heater_on_generator = rules::GeneratorPolicy::surplus_only;
  unknown.generator_running.missing();
  unknown.step(10s);
  CHECK_FALSE(unknown.main_room().heater.on);
  CHECK(unknown.main_room().heater.reason.code == ReasonCode::generator_unknown);
  CHECK(unknown.primary().on);  // allow: its own policy lets it start while the state is not known
}

TEST_CASE("an overload sheds a load that is overridden on; its start then waits like any other") {
  auto s = both_running();
  s.state.miners[0].override_ = {OverrideMode::on, std::nullopt};
  s.state.miners[1].override_ = {OverrideMode::on, std::nullopt};
  s.ac[0].overload = 1;
  s.step(10s);
  s.step(10s);
  CHECK_FALSE(s.primary().on);
  CHECK_FALSE(s.dump().on);
  s.ac[0].overload = 0;
  s.step(10s);
  CHECK(s.primary().reason.code == ReasonCode::ac_overload_hold);
}

TEST_CASE("starts on one source keep the site's stagger, and two starts in one cycle share the room") {
  auto s = sunny();
  s.p.site.stagger = 30s;
  s.p.ac_sources = {inverter(9000)};
  s.ac[0].phase[0].load_w = 500;
  s.step(10s);
  CHECK(s.primary().on);
  CHECK(s.dump().reason.code == ReasonCode::stagger_wait);
  s.step(30s);
  CHECK(s.dump().on);  // 9000 - 200 - max(500, 3878) = 4922 >= 3250
}

TEST_CASE("validate: AC sources and feeds, each error naming the field, the value and the rule") {
  auto p = rules::solar_shack_defaults();
  const auto has = [](const std::vector<std::string>& errors, const std::string& text) {
    for (const auto& e : errors) {
      if (e == text) return true;
    }
    for (const auto& e : errors) MESSAGE(e);
    return false;
  };
  SUBCASE("the source itself") {
    auto a = inverter(5000);
    a.phases = 4;
    a.surge_w = 4000;
    a.margin_w = -1;
    p.ac_sources = {a};
    p.miners.clear();
    p.zones.clear();
    const auto e = rules::validate(p);
    CHECK(has(e, "ac source 'inverter': phases 4 must be 1, 2 (split phase) or 3"));
    CHECK(has(e, "ac source 'inverter': surge_w 4000.0 must be 0 (not known) or at least continuous_w 5000.0"));
    CHECK(has(e, "ac source 'inverter': margin_w -1.0 must be at least 0.0"));
  }
  SUBCASE("absurd and not-a-number ratings") {
    auto a = inverter(5e6);
    auto b = inverter(std::numeric_limits<double>::quiet_NaN());
    b.name = "generator";
    p.ac_sources = {a, b};
    p.miners.clear();
    p.zones.clear();
    const auto e = rules::validate(p);
    CHECK(has(e, "ac source 'inverter': continuous_w 5e+06 must be 0 (not known) to 1000000 W per phase"));
    CHECK(has(e, "ac source 'generator': each power must be a number"));
  }
  SUBCASE("feeds") {
    p.ac_sources = {inverter(3500, 2)};
    p.miners[0].feed = {0, 2};
    p.miners[1].feed = {3, 0};
    p.zones[1].heater_power_w = 0;
    const auto e = rules::validate(p);
    CHECK(has(e, "miner 'Primary S21+': phase L3: AC source 'inverter' has 2 phases"));
    CHECK(has(e, "miner 'Dump Load S19 #1': source #4 names no configured AC source (1 configured)"));
    CHECK(has(e, "zone 'Main Room': heater_power_w 0.0 must be above 0: AC source 'inverter' has a rating, and its "
                 "budget needs the draw"));
  }
  SUBCASE("a load that could never start") {
    p.ac_sources = {inverter(3500)};
    p.zones[0].heater_power_w = p.zones[1].heater_power_w = 1500;
    const auto e = rules::validate(p);
    CHECK(has(e, "miner 'Primary S21+': power_w 3878.0 plus margin_w 200.0 is above the continuous_w 3500.0 of AC source "
                 "'inverter' phase L1: it could never start (a start needs its draw plus margin_w within the continuous "
                 "rating, with nothing else on)"));
  }
  SUBCASE("on the second leg: the phase named, the heater's draw") {
    p.ac_sources = {inverter(1600, 2)};
    p.miners.clear();
    p.zones[0].heater_power_w = 1000;
    p.zones[1].heater_power_w = 1500;
    p.zones[1].heater_feed = {0, 1};
    const auto e = rules::validate(p);
    // Only the heater on L2: the one on L1 (1000 W) fits.
    CHECK(std::count_if(e.begin(), e.end(), [](const std::string& x) { return x.find("could never start") != std::string::npos; }) == 1);
    CHECK(has(e, "zone 'Main Room': heater_power_w 1500.0 plus margin_w 200.0 is above the continuous_w 1600.0 of AC "
                 "source 'inverter' heater_phase L2: it could never start (a start needs its draw plus margin_w within "
                 "the continuous rating, with nothing else on)"));
  }
  SUBCASE("exactly at the rating less the margin: it can start") {
    p.ac_sources = {inverter(3878 + 200)};
    p.zones[0].heater_power_w = p.zones[1].heater_power_w = 1500;
    CHECK(rules::validate(p).empty());
  }
  SUBCASE("the defaults: one unrated source") {
    CHECK(rules::validate(p).empty());
  }
}

// What check says of a valid site whose loads cannot all run at once on one phase (issue 59, part
// 5): a note with how many can, not an error; each load a generator could never take.
TEST_CASE("ac_budget_notes: how many loads fit at once on each rated phase, and what a generator can never take") {
  auto p = rules::solar_shack_defaults();
  p.zones[0].heater_power_w = p.zones[1].heater_power_w = 1500;
  const auto one_with = [](const std::vector<std::string>& notes, const std::string& text) {
    for (const auto& n : notes) MESSAGE(n);
    return notes.size() == 1 && notes[0] == text;
  };
  SUBCASE("no rating, or every load fits together: nothing to say") {
    CHECK(rules::ac_budget_notes(p).empty());
    p.ac_sources = {inverter(3878 + 3250 + 1500 + 1500 + 200)};
    REQUIRE(rules::validate(p).empty());
    CHECK(rules::ac_budget_notes(p).empty());
  }
  SUBCASE("one inverter below the sum: at most N of M, the sum against the room, each load's draw") {
    p.ac_sources = {inverter(6000)};
    REQUIRE(rules::validate(p).empty());  // each fits alone: not a refusal
    // 1500 + 1500 = 3000 fits in 5800, + 3250 does not: at most 2 of the 4.
    CHECK(one_with(rules::ac_budget_notes(p),
                   "at most 2 of 4 loads at once on inverter 'inverter': together 10128 W of 5800 W (continuous_w "
                   "6000 W less margin_w 200 W); a start waits for room (miner 'Primary S21+' 3878 W, miner 'Dump Load "
                   "S19 #1' 3250 W, zone 'Heat Room' heater 1500 W, zone 'Main Room' heater 1500 W)"));
  }
  SUBCASE("split phase: each leg on its own; a disabled load never runs and is not counted") {
    p.ac_sources = {inverter(4500, 2)};
    p.miners[1].feed = {0, 1};
    p.zones[1].heater_feed = {0, 1};
    REQUIRE(rules::validate(p).empty());
    // L1: 3878 + 1500 in 4300; L2: 3250 + 1500 = 4750 in 4300.
    const auto notes = rules::ac_budget_notes(p);
    REQUIRE(notes.size() == 2);
    CHECK(notes[0].rfind("at most 1 of 2 loads at once on inverter 'inverter' L1: together 5378 W of 4300 W", 0) == 0);
    CHECK(notes[1].rfind("at most 1 of 2 loads at once on inverter 'inverter' L2: together 4750 W of 4300 W", 0) == 0);
    p.zones[1].enabled = false;
    const auto fewer = rules::ac_budget_notes(p);
    REQUIRE(fewer.size() == 1);
    CHECK(fewer[0].find(" L1: ") != std::string::npos);
  }
  SUBCASE("a generator: what it could never take, and how many it takes at once; never-loads are not on it") {
    auto gen = inverter(3000);
    gen.name = "gen";
    gen.kind = rules::AcSourceKind::generator;
    p.ac_sources = {inverter(0), gen};
    p.miners[0].on_generator = rules::GeneratorPolicy::allow;
    p.miners[1].on_generator = rules::GeneratorPolicy::never;
    REQUIRE(rules::validate(p).empty());
    const auto notes = rules::ac_budget_notes(p);
    for (const auto& n : notes) MESSAGE(n);
    REQUIRE(notes.size() == 2);
    CHECK(notes[0] == "miner 'Primary S21+' can never start on generator power: 3878 W plus margin_w 200 W is above "
                      "the continuous_w 3000 W of generator 'gen' (it runs while the generator is off)");
    CHECK(notes[1] == "at most 1 of 2 loads at once on generator 'gen': together 3000 W of 2800 W (continuous_w 3000 W "
                      "less margin_w 200 W) while it runs; a start waits for room (zone 'Heat Room' heater 1500 W, "
                      "zone 'Main Room' heater 1500 W)");
  }
}

TEST_CASE("the whole unit's overload word sheds one load a cycle across its legs, the lowest priority") {
  // Split phase, the primary (priority 1) on L1, the dump (priority 3) on L2, both running.
  auto s = sunny();
  s.p.ac_sources = {inverter(4500, 2)};
  s.p.miners[0].feed = {0, 0};
  s.p.miners[1].feed = {0, 1};
  s.ac[0].phase[0].load_w = 300;
  s.ac[0].phase[1].load_w = 300;
  s.step(10s);
  REQUIRE(s.primary().on);
  REQUIRE(s.dump().on);
  s.ac[0].phase[0].load_w = 4100;
  s.ac[0].phase[1].load_w = 3400;
  s.ac[0].overload = 1;  // register 36: it does not say which leg
  s.step(10s);
  // One load for the unit, not one a leg: the dump; its reason sums the legs, 4100 + 3400 W
  // against 2 x 4500 W.
  CHECK_FALSE(s.dump().on);
  CHECK(s.primary().on);
  CHECK(s.dump().reason.code == ReasonCode::ac_overload);
  CHECK(rules::describe(s.dump().reason) == "shed: overload on inverter: 7500 W (rating 9000 W)");
  // Still warning: the next, on the other leg.
  s.step(10s);
  CHECK_FALSE(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::ac_overload);
  // A leg's load not known: the sum is not either.
  auto u = sunny();
  u.p.ac_sources = {inverter(4500, 2)};
  u.p.miners[1].feed = {0, 1};
  u.step(10s);  // unrated legs not read: starts wait; run them as restored
  u.state.miners[0].on = u.state.miners[1].on = true;
  u.ac[0].phase[0].load_w = 4100;
  u.ac[0].overload = 1;
  u.step(10s);
  CHECK(rules::describe(u.dump().reason) == "shed: overload on inverter (rating 9000 W)");
  CHECK(u.primary().on);
}

TEST_CASE("a leg's own overload word sheds on that leg, and the unit's word adds none that cycle") {
  auto s = sunny();
  s.p.ac_sources = {inverter(4500, 2)};
  s.p.miners[0].feed = {0, 0};
  s.p.miners[1].feed = {0, 1};
  s.ac[0].phase[0].load_w = 300;
  s.ac[0].phase[1].load_w = 300;
  s.step(10s);
  REQUIRE(s.primary().on);
  REQUIRE(s.dump().on);
  s.ac[0].overload = 1;
  s.ac[0].phase[0].overload = 1;  // L1 says it is the overloaded one
  s.step(10s);
  CHECK_FALSE(s.primary().on);  // L1's own load, although the dump's priority is lower
  CHECK(rules::describe(s.primary().reason) == "shed: overload on inverter L1: 300 W (rating 4500 W)");
  CHECK(s.dump().on);  // the unit's word added none
  CHECK(s.dump().reason.code != ReasonCode::ac_overload);
}

TEST_CASE("the whole unit's word sheds a freezing zone's heater last, across legs") {
  auto s = sunny();
  s.p.ac_sources = {inverter(9000, 2)};
  s.p.miners[0].feed = {0, 1};
  s.p.miners[1].feed = {0, 1};  // both miners on L2, the heater on L1
  s.ac[0].phase[0].load_w = 300;
  s.ac[0].phase[1].load_w = 300;
  s.zone_c[1] = -6;  // the Main Room's heater (on L1) runs
  s.step(10s);
  REQUIRE(s.main_room().heater.on);
  REQUIRE(s.primary().on);
  REQUIRE(s.dump().on);
  s.ac[0].overload = 1;
  s.step(10s);
  CHECK_FALSE(s.dump().on);  // priority 3
  CHECK(s.primary().on);
  s.step(10s);
  CHECK_FALSE(s.primary().on);
  CHECK(s.main_room().heater.on);  // a heater for a zone calling for heat: last
  s.step(10s);
  CHECK_FALSE(s.main_room().heater.on);
  CHECK(s.main_room().heater.reason.code == ReasonCode::ac_overload);
}
