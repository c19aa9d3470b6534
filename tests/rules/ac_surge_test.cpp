// The surge rating (issue 59): a start waits unless the phase's load, the start draws of this
// cycle's starts on it, its own start draw and the margin fit within the source's surge_w
// (rules/ac_budget.cpp, AcCycle::hold_on).
#include <algorithm>

#include "harness.hpp"

using namespace std::chrono_literals;
using rules::ReasonCode;

namespace {

// Both miners want to run (a full bank, a sunny day), no timers, stagger_s 0.
test::Site surge_sunny() {
  test::Site s;
  s.instant();
  s.monitor_v = 55.0;
  s.pv_w = 12000;
  s.load_w = 500;
  s.p.miners[1].require_sunny = false;
  s.p.zones[0].heater_power_w = s.p.zones[1].heater_power_w = 1500;
  return s;
}

// 9,000 W continuous, 12,000 W surge, 200 W margin: the continuous budget has room for both
// miners (500 + 3878 + 3250 + 200 <= 9000), so only the surge test can hold one.
rules::AcSource surge_inverter() {
  rules::AcSource a;
  a.name = "inverter";
  a.continuous_w = 9000;
  a.surge_w = 12000;
  a.margin_w = 200;
  return a;
}

}  // namespace

TEST_CASE("surge: with stagger_s 0 a cycle's start draws add up; the next cycle the first is over") {
  auto s = surge_sunny();
  s.p.ac_sources = {surge_inverter()};
  s.ac[0].phase[0].load_w = 500;
  s.p.miners[0].start_w = 6000;
  s.p.miners[1].start_w = 6000;
  s.step(10s);
  // The primary: 500 + 6000 + 200 <= 12000.
  CHECK(s.primary().on);
  // The dump: 12000 - 200 - 500 - 6000 (the primary's start draw this cycle) = 5300 < 6000.
  CHECK_FALSE(s.dump().on);
  CHECK(s.dump().reason.code == ReasonCode::ac_surge);
  CHECK(s.dump().reason.value == doctest::Approx(5300));
  CHECK(s.dump().reason.limit == doctest::Approx(6000));
  CHECK(rules::describe(s.dump().reason) == "start held: surge room left on inverter: 5300 W (its start draws 6000 W)");
  // The next cycle the primary runs at its rating: 12000 - 200 - 3878 = 7922 >= 6000.
  s.step(10s);
  CHECK(s.dump().on);
}

TEST_CASE("surge: start_w unset is the rated draw, so a site that sets none decides as before") {
  auto s = surge_sunny();
  s.p.ac_sources = {surge_inverter()};
  s.ac[0].phase[0].load_w = 500;
  s.p.miners[0].start_w = 6000;
  s.step(10s);
  // The dump's start draw is its 3250 W: 5300 W of surge room holds it.
  CHECK(s.primary().on);
  CHECK(s.dump().on);

  // surge_w 0: not known, no surge test, whatever the start draws.
  auto n = surge_sunny();
  n.p.ac_sources = {surge_inverter()};
  n.p.ac_sources[0].surge_w = 0;
  n.ac[0].phase[0].load_w = 500;
  n.p.miners[0].start_w = n.p.miners[1].start_w = 20000;
  n.step(10s);
  CHECK(n.primary().on);
  CHECK(n.dump().on);
}

TEST_CASE("surge: with stagger_s one start per interval, each start tested against the load alone") {
  auto s = surge_sunny();
  s.p.site.stagger = 30s;
  s.p.ac_sources = {surge_inverter()};
  s.ac[0].phase[0].load_w = 500;
  s.p.miners[0].start_w = s.p.miners[1].start_w = 6000;
  s.step(10s);
  CHECK(s.primary().on);
  CHECK(s.dump().reason.code == ReasonCode::stagger_wait);
  s.step(30s);
  CHECK(s.dump().on);  // 12000 - 200 - max(500, 3878) = 7922 >= 6000
}

TEST_CASE("surge: a heater's start draw is its rating, and a freezing zone's heater is held its surge room") {
  // 4,500 W continuous, 5,000 W surge, 500 W of house: the heater (1,500 W) is held its room and
  // its start draw first, which leaves 5000 - 200 - 500 - 1500 = 2800 W of surge room.
  auto s = surge_sunny();
  s.p.ac_sources = {surge_inverter()};
  s.p.ac_sources[0].continuous_w = 4500;
  s.p.ac_sources[0].surge_w = 5000;
  s.ac[0].phase[0].load_w = 500;
  s.p.miners[0].enabled = false;
  s.p.miners[1].power_w = 500;  // fits the continuous budget with the heater: 500 + 1500 + 500 + 200 <= 4500
  s.p.miners[1].start_w = 2900;
  s.zone_c[1] = -6;  // the Main Room's heater heats it
  s.step(10s);
  CHECK(s.main_room().heater.on);
  CHECK_FALSE(s.dump().on);
  CHECK(s.dump().reason.code == ReasonCode::ac_surge);
  CHECK(s.dump().reason.value == doctest::Approx(5000 - 200 - 500 - 1500));
  s.step(10s);
  // The heater's inrush is over: 5000 - 200 - max(500, 1500) = 3300 >= 2900.
  CHECK(s.dump().on);
}

TEST_CASE("surge: a generator's surge_w holds a start while it runs") {
  auto s = surge_sunny();
  rules::AcSource gen = surge_inverter();
  gen.name = "generator";
  gen.kind = rules::AcSourceKind::generator;
  gen.continuous_w = 4000;
  gen.surge_w = 5000;
  rules::AcSource inv;
  inv.name = "inverter";
  s.p.ac_sources = {inv, gen};  // the inverter unrated: only the generator's budget holds
  s.generator_running = 1;
  s.ac[1].phase[0].load_w = 500;
  s.p.miners[0].on_generator = rules::GeneratorPolicy::never;
  s.p.miners[1].on_generator = rules::GeneratorPolicy::allow;
  s.p.miners[1].start_w = 4500;
  s.step(10s);
  // Continuous: 4000 - 200 - 500 = 3300 >= 3250; surge: 5000 - 200 - 500 = 4300 < 4500.
  CHECK_FALSE(s.dump().on);
  CHECK(s.dump().reason.code == ReasonCode::ac_surge);
  CHECK(rules::describe(s.dump().reason) == "start held: surge room left on generator: 4300 W (its start draws 4500 W)");
  // The generator off: its budget is not consulted.
  s.generator_running = 0;
  s.step(10s);
  CHECK(s.dump().on);
}

TEST_CASE("validate: a start draw plus margin above its phase's surge_w could never start") {
  auto p = rules::solar_shack_defaults();
  p.zones[0].heater_power_w = p.zones[1].heater_power_w = 1500;
  rules::AcSource a;
  a.name = "inverter";
  a.continuous_w = 5000;
  a.surge_w = 6000;
  a.margin_w = 200;
  p.ac_sources = {a};
  REQUIRE(rules::validate(p).empty());
  p.miners[0].start_w = 5800;  // exactly at the surge rating less the margin: it can start
  CHECK(rules::validate(p).empty());
  p.miners[0].start_w = 6000;
  const auto e = rules::validate(p);
  REQUIRE(e.size() == 1);
  CHECK(e[0] == "miner 'Primary S21+': start_w 6000.0 plus margin_w 200.0 is above the surge_w 6000.0 of AC source "
                "'inverter' phase L1: it could never start (a start needs its start draw plus margin_w within the "
                "surge rating, with nothing else on)");
  p.miners[0].start_w = -1;
  const auto negative = rules::validate(p);
  CHECK(std::any_of(negative.begin(), negative.end(),
                    [](const std::string& x) { return x == "miner 'Primary S21+': start_w -1.0 must be 0 or more"; }));
}
