// On generator power (issue 59, part 4): each load's on_generator policy (never, surplus_only,
// allow), the generator's rating through the AC budget while it runs, and a running state that is
// not known.
#include <limits>
#include <string>

#include "harness.hpp"

using namespace std::chrono_literals;
using rules::GeneratorPolicy;
using rules::OverrideMode;
using rules::ReasonCode;

namespace {

// Both miners could run: a full bank, a sunny day; no timers. The house draws 500 W; the load
// reading follows the miners that are on (the site measures them).
test::Site on_gen_site() {
  test::Site s;
  s.instant();
  s.monitor_v = 55.0;
  s.pv_w = 12000;
  s.load_w = 500;
  s.p.miners[1].require_sunny = false;
  s.p.zones[0].heater_power_w = s.p.zones[1].heater_power_w = 1500;
  return s;
}

// The load as the site measures it: the house and every miner that is on.
void measure_load(test::Site& s, double house_w = 500) {
  double w = house_w;
  if (s.primary().on) w += 3878;
  if (s.dump().on) w += 3250;
  s.load_w = w;
}

rules::AcSource an_inverter(double continuous_w) {
  rules::AcSource a;
  a.name = "inverter";
  a.continuous_w = continuous_w;
  a.margin_w = 200;
  return a;
}

rules::AcSource a_generator(double continuous_w) {
  rules::AcSource g;
  g.name = "generator";
  g.kind = rules::AcSourceKind::generator;
  g.continuous_w = continuous_w;
  g.margin_w = 200;
  return g;
}

}  // namespace

TEST_CASE("the defaults: miners surplus_only, heaters allow") {
  const rules::Profiles p = rules::solar_shack_defaults();
  for (const auto& m : p.miners) CHECK(m.on_generator == GeneratorPolicy::surplus_only);
  for (const auto& z : p.zones) CHECK(z.heater_on_generator == GeneratorPolicy::allow);
}

TEST_CASE("with no generator running the policies change nothing") {
  auto s = on_gen_site();
  s.p.miners[0].on_generator = s.p.miners[1].on_generator = GeneratorPolicy::never;
  s.generator_running = 0;
  s.step(10s);
  CHECK(s.primary().on);
  CHECK(s.dump().on);
  // No word at all, and no generator configured: not on generator power either.
  auto t = on_gen_site();
  t.p.miners[0].on_generator = GeneratorPolicy::never;
  t.step(10s);
  CHECK(t.primary().on);
}

TEST_CASE("surplus_only: on generator power a miner starts only when the sun covers the site with it") {
  auto s = on_gen_site();
  s.generator_running = 1;
  s.pv_w = 3000;  // the sun covers the house, not a miner
  s.step(10s);
  CHECK_FALSE(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::generator_surplus);
  CHECK(s.primary().reason.value == doctest::Approx(2500));
  CHECK(s.primary().reason.limit == doctest::Approx(3878));
  CHECK(rules::describe(s.primary().reason) ==
        "off (on_generator: surplus_only): the sun's surplus does not cover it on generator: 2500 W (it needs 3878 W)");
  CHECK_FALSE(s.dump().on);

  // The sun covers both: they run, the generator feeds none of it.
  s.pv_w = 12000;
  s.step(10s);
  CHECK(s.primary().on);
  CHECK(s.dump().on);

  // A cloud: PV covers the house and the primary, not the dump too. The dump goes at once (no
  // stop delay: every second of it would be generator fuel); the primary, first, stays.
  measure_load(s);
  s.pv_w = 6000;
  s.step(10s);
  CHECK(s.primary().on);
  CHECK_FALSE(s.dump().on);
  CHECK(s.dump().reason.code == ReasonCode::generator_surplus);
  CHECK(s.dump().reason.value == doctest::Approx(6000 - 500 - 3878));

  // PV or the load not known: no surplus proved, off.
  measure_load(s);
  s.load_w.missing();
  s.step(10s);
  CHECK_FALSE(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::generator_surplus);
}

TEST_CASE("surplus_only: a partial load sum proves no surplus; a partial PV sum is a lower bound") {
  auto s = on_gen_site();
  s.generator_running = 1;
  s.load_partial = true;
  s.step(10s);
  CHECK_FALSE(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::generator_surplus);
  s.load_partial = false;
  s.pv_partial = true;  // 12 kW at least: enough
  s.step(10s);
  CHECK(s.primary().on);
}

TEST_CASE("surplus_only: a miner that heats its zone follows its policy; the zone's heater takes over") {
  auto s = on_gen_site();
  s.generator_running = 1;
  s.pv_w = 4200;  // the heater's minimum solar (4000) is there; the miner's surplus (3878) is not
  s.zone_c[0] = -2;  // the Heat Room calls for heat: its miner first, then its heater
  s.step(10s);
  CHECK_FALSE(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::generator_surplus);
  CHECK(s.heat_room().heater.on);  // allow, by default
}

TEST_CASE("never: off at once when the generator starts, and no start while it runs, an override on included") {
  auto s = on_gen_site();
  s.p.miners[0].on_generator = GeneratorPolicy::never;
  s.p.miners[0].timing.min_on = 600s;  // a stop for the generator does not wait for it
  s.step(10s);
  REQUIRE(s.primary().on);
  s.generator_running = 1;
  s.step(10s);
  CHECK_FALSE(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::generator_never);
  CHECK(rules::describe(s.primary().reason) == "off (on_generator: never): the site runs on generator");
  s.state.miners[0].override_ = {OverrideMode::on, std::nullopt};
  s.step(10s);
  CHECK_FALSE(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::generator_never);
  // The generator stops: it starts again.
  s.state.miners[0].override_ = {};
  s.generator_running = 0;
  s.step(10s);
  CHECK(s.primary().on);
}

TEST_CASE("never and surplus_only name the configured generator") {
  auto s = on_gen_site();
  s.p.ac_sources = {an_inverter(0), a_generator(0)};
  s.p.ac_sources[1].name = "genset";
  s.p.miners[0].on_generator = GeneratorPolicy::never;
  s.generator_running = 1;
  s.step(10s);
  CHECK(rules::describe(s.primary().reason) == "off (on_generator: never): the site runs on genset");
}

TEST_CASE("allow: the generator's rating holds, the inverter's too, and the reason names the generator") {
  auto s = on_gen_site();
  s.p.ac_sources = {an_inverter(12000), a_generator(5000)};
  s.p.miners[0].on_generator = s.p.miners[1].on_generator = GeneratorPolicy::allow;
  s.ac[0].phase[0].load_w = 800;
  s.ac[1].phase[0].load_w = 800;  // the generator carries the house
  s.generator_running = 1;
  s.step(10s);
  CHECK(s.primary().on);  // 800 + 3878 + 200 <= 5000
  CHECK_FALSE(s.dump().on);
  CHECK(s.dump().reason.code == ReasonCode::ac_budget);
  CHECK(s.dump().reason.value == doctest::Approx(5000 - 200 - 800 - 3878));
  CHECK(rules::describe(s.dump().reason) == "start held: room left on generator: 122 W (the start needs 3250 W)");
  // Next cycle the primary is not drawing yet: its rating counts on the generator.
  s.step(10s);
  CHECK_FALSE(s.dump().on);
  CHECK(s.dump().reason.value == doctest::Approx(5000 - 200 - 3878));
  // The generator stops: only the inverter's budget is left, and it has room.
  s.generator_running = 0;
  s.step(10s);
  CHECK(s.dump().on);
}

TEST_CASE("allow: the generator's output above its rating past the tolerance sheds the lowest priority") {
  auto s = on_gen_site();
  s.p.ac_sources = {an_inverter(12000), a_generator(8000)};
  s.p.ac_sources[1].overload_tolerance = 10s;
  s.p.miners[0].on_generator = s.p.miners[1].on_generator = GeneratorPolicy::allow;
  s.ac[0].phase[0].load_w = 500;
  s.ac[1].phase[0].load_w = 500;
  s.generator_running = 1;
  s.step(10s);
  s.step(10s);
  REQUIRE(s.primary().on);
  REQUIRE(s.dump().on);  // 500 + 3878 + 3250 + 200 <= 8000
  s.ac[1].phase[0].load_w = 8600;  // the house grew and the charger takes its share
  s.step(5s);
  CHECK(s.dump().on);  // within the tolerance
  s.step(10s);
  CHECK_FALSE(s.dump().on);
  CHECK(s.dump().reason.code == ReasonCode::ac_overload);
  CHECK(rules::describe(s.dump().reason).find("generator") != std::string::npos);
  CHECK(s.primary().on);  // one a cycle
}

TEST_CASE("a generator that is off holds nothing: its budget and its readings are not consulted") {
  auto s = on_gen_site();
  s.p.ac_sources = {an_inverter(12000), a_generator(3000)};
  s.ac[0].phase[0].load_w = 500;
  // The generator's output is not read at all (it is off): no ac_load_unknown on it.
  s.generator_running = 0;
  s.step(10s);
  CHECK(s.primary().on);
  CHECK(s.dump().on);
}

TEST_CASE("running state not known, a generator configured: no start on its policies; a load on stays on") {
  auto s = on_gen_site();
  s.p.ac_sources = {an_inverter(0), a_generator(0)};
  s.p.miners[0].on_generator = GeneratorPolicy::allow;
  s.step(10s);  // no word yet
  CHECK(s.primary().on);  // allow is never held by it
  CHECK_FALSE(s.dump().on);
  CHECK(s.dump().reason.code == ReasonCode::generator_unknown);
  CHECK(rules::describe(s.dump().reason) == "start held (on_generator): not known whether the site runs on generator");
  // NaN and a negative word are not known either.
  s.generator_running = std::numeric_limits<double>::quiet_NaN();
  s.step(10s);
  CHECK(s.dump().reason.code == ReasonCode::generator_unknown);
  s.generator_running = -1;
  s.step(10s);
  CHECK(s.dump().reason.code == ReasonCode::generator_unknown);
  // Off: it starts; the word goes stale: it stays on (a word lost is no generator started).
  s.generator_running = 0;
  s.step(10s);
  REQUIRE(s.dump().on);
  measure_load(s);
  s.generator_running.freeze();
  s.step(60s);
  CHECK(s.dump().on);
  CHECK(s.primary().on);
}

TEST_CASE("on generator power no hidden-surplus probe starts: the generator charges the bank") {
  auto s = on_gen_site();
  s.p.miners[1].probe_hidden_surplus = true;
  s.pv_w = 2000;          // what the chargers let through
  s.chargers_limiting = 1;  // they hold PV back
  s.battery_a = 20;       // charging: from the generator
  s.monitor_v = 56.0;
  s.generator_running = 1;
  s.p.miners[1].on_generator = GeneratorPolicy::allow;
  s.step(10s);
  CHECK_FALSE(s.dump().on);
  CHECK(s.dump().reason.code != ReasonCode::probing_hidden_surplus);
  // Off generator power the same readings start a probe.
  s.generator_running = 0;
  s.step(10s);
  CHECK(s.dump().on);
  CHECK(s.dump().reason.code == ReasonCode::probing_hidden_surplus);
}

TEST_CASE("a heater: allow runs it on generator power within the rating, never stops it, surplus_only needs the sun") {
  auto s = on_gen_site();
  s.p.ac_sources = {an_inverter(12000), a_generator(5000)};
  s.p.miners[0].enabled = s.p.miners[1].enabled = false;
  s.ac[0].phase[0].load_w = 500;
  s.ac[1].phase[0].load_w = 500;
  s.zone_c[1] = -8;  // the Main Room freezes: its heater alone
  s.generator_running = 1;
  s.pv_w = 2500;     // its minimum solar (2000), not the heater's surplus
  s.step(10s);
  CHECK(s.main_room().heater.on);
  s.p.zones[1].heater_on_generator = GeneratorPolicy::never;
  s.step(10s);
  CHECK_FALSE(s.main_room().heater.on);
  CHECK(s.main_room().heater.reason.code == ReasonCode::generator_never);
  s.p.zones[1].heater_on_generator = GeneratorPolicy::surplus_only;
  s.load_w = 1000;  // the house; the heater is off
  s.pv_w = 2100;    // its minimum solar, not its draw on top of the house
  s.step(10s);
  CHECK_FALSE(s.main_room().heater.on);
  CHECK(s.main_room().heater.reason.code == ReasonCode::generator_surplus);
  CHECK(s.main_room().heater.reason.value == doctest::Approx(2100 - 1000));
  s.pv_w = 2600;
  s.step(10s);
  CHECK(s.main_room().heater.on);
  // On, it is measured: its own draw counts as the surplus it runs on.
  s.load_w = 2500;
  s.step(10s);
  CHECK(s.main_room().heater.on);
  CHECK(s.main_room().fan.reason.code != ReasonCode::generator_never);  // fans have no policy
}

TEST_CASE("validate: a load fed by a generator is refused") {
  auto p = rules::solar_shack_defaults();
  p.ac_sources = {a_generator(5000), an_inverter(8000)};
  p.zones[0].heater_power_w = p.zones[1].heater_power_w = 1500;
  const auto e = rules::validate(p);
  REQUIRE_FALSE(e.empty());
  CHECK(e.front().find("names generator 'generator': a generator feeds an inverter's AC input, not a load") !=
        std::string::npos);
}

TEST_CASE("a split-phase inverter on a generator: a one-phase generator carries both legs, a split-phase one each its own") {
  auto s = on_gen_site();
  s.p.miners[0].on_generator = s.p.miners[1].on_generator = GeneratorPolicy::allow;
  auto inv = an_inverter(12000);
  inv.phases = 2;
  s.p.ac_sources = {inv, a_generator(5000)};
  s.p.miners[0].feed = {0, 0};  // the primary on L1
  s.p.miners[1].feed = {0, 1};  // the dump on L2
  s.p.zones[0].heater_feed = {0, 0};
  s.p.zones[1].heater_feed = {0, 1};
  s.ac[0].phase[0].load_w = 250;
  s.ac[0].phase[1].load_w = 250;
  s.ac[1].phase[0].load_w = 500;
  s.generator_running = 1;
  s.step(10s);
  CHECK(s.primary().on);
  CHECK_FALSE(s.dump().on);  // L2's load is on the generator's one phase too
  CHECK(rules::describe(s.dump().reason) == "start held: room left on generator: 422 W (the start needs 3250 W)");

  auto t = on_gen_site();
  t.p.miners[0].on_generator = t.p.miners[1].on_generator = GeneratorPolicy::allow;
  auto gen = a_generator(5000);
  gen.phases = 2;
  t.p.ac_sources = {inv, gen};
  t.p.miners[0].feed = {0, 0};
  t.p.miners[1].feed = {0, 1};
  t.p.zones[0].heater_feed = {0, 0};
  t.p.zones[1].heater_feed = {0, 1};
  for (std::size_t k = 0; k < 2; ++k) {
    t.ac[0].phase[k].load_w = 250;
    t.ac[1].phase[k].load_w = 250;
  }
  t.generator_running = 1;
  t.step(10s);
  CHECK(t.primary().on);
  CHECK(t.dump().on);  // each leg has room on its own phase of the generator
}
