// The switching discipline: dwell timers, sag, min on/off, max starts per hour, stagger.
#include "harness.hpp"

using namespace std::chrono_literals;
using rules::ReasonCode;

namespace {
// Only the primary, with the given timing; everything else out of the way.
test::Site primary_only(rules::Timing timing) {
  test::Site s;
  s.p.miners[1].enabled = false;
  s.p.miners[0].mode = rules::OperatingMode::balanced;  // start 50.0, stop 47.0
  s.p.miners[0].timing = timing;
  s.p.site.stagger = 0s;
  return s;
}
}  // namespace

TEST_CASE("start needs the condition held for start_delay; a dip restarts the dwell") {
  auto s = primary_only({0s, 0s, 60s, 0s, 0});
  s.monitor_v = 50.2;
  s.step();
  CHECK(s.primary().reason.code == ReasonCode::start_delay_pending);
  s.run(50s);
  CHECK_FALSE(s.primary().on);
  CHECK(s.primary().reason.remaining == 10s);
  s.monitor_v = 49.9;  // dips below start for one cycle
  s.step(10s);
  CHECK(s.primary().reason.code == ReasonCode::below_start_voltage);
  s.monitor_v = 50.2;  // first seen again at t = 70 s
  s.run(50s);
  CHECK_FALSE(s.primary().on);
  s.run(20s);  // t = 130 s: held 60 s
  CHECK(s.primary().on);
  CHECK(s.primary().changed);
}

TEST_CASE("sag: a dip below stop shorter than stop_delay does not stop the load") {
  auto s = primary_only({0s, 0s, 0s, 120s, 0});
  s.monitor_v = 50.5;
  s.step();
  REQUIRE(s.primary().on);
  // The miner's inrush pulls the bank below stop for 100 s, then it recovers. The dwell counts
  // from the first cycle that sees the dip (t = 10 s).
  s.monitor_v = 46.8;
  s.run(100s);
  CHECK(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::stop_delay_pending);
  CHECK(s.primary().reason.cause == ReasonCode::below_stop_voltage);
  CHECK(s.primary().reason.remaining == 30s);
  s.monitor_v = 47.5;
  s.step(10s);
  CHECK(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::running);
  // The next dip starts a fresh dwell at t = 120 s; at t = 230 s it has held 110 s.
  s.monitor_v = 46.8;
  s.run(110s);
  CHECK(s.primary().on);
  s.run(10s);
  CHECK(s.primary().on);
  s.run(10s);
  CHECK_FALSE(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::below_stop_voltage);
}

TEST_CASE("min on-time holds a load on past its stop condition") {
  auto s = primary_only({10min, 0s, 0s, 0s, 0});
  s.monitor_v = 51.0;
  s.step();
  REQUIRE(s.primary().on);
  s.monitor_v = 46.5;
  s.run(5min);
  CHECK(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::min_on_pending);
  CHECK(s.primary().reason.cause == ReasonCode::below_stop_voltage);
  CHECK(s.primary().reason.remaining == 5min);
  s.run(5min);
  CHECK_FALSE(s.primary().on);
}

TEST_CASE("min off-time holds a load off after it stopped") {
  auto s = primary_only({0s, 5min, 0s, 0s, 0});
  s.monitor_v = 51.0;
  s.step();
  REQUIRE(s.primary().on);
  s.monitor_v = 46.5;
  s.step(10s);
  REQUIRE_FALSE(s.primary().on);  // stopped at t = 10 s
  s.monitor_v = 51.0;
  s.run(4min);  // t = 250 s
  CHECK_FALSE(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::min_off_pending);
  CHECK(s.primary().reason.remaining == 60s);
  s.run(50s);
  CHECK_FALSE(s.primary().on);
  s.run(10s);
  CHECK(s.primary().on);
}

TEST_CASE("a load never switched before is not held by min off-time") {
  auto s = primary_only({0s, 1h, 0s, 0s, 0});
  s.monitor_v = 51.0;
  s.step();
  CHECK(s.primary().on);
}

TEST_CASE("max starts per hour") {
  auto s = primary_only({0s, 0s, 0s, 0s, 3});
  // Three start/stop cycles: starts at t = 5, 15 and 25 min.
  for (int i = 0; i < 3; ++i) {
    s.monitor_v = 51.0;
    s.step(5min);
    REQUIRE(s.primary().on);
    s.monitor_v = 46.0;
    s.step(5min);
    REQUIRE_FALSE(s.primary().on);
  }
  s.monitor_v = 51.0;
  s.step(5min);  // t = 35 min: a fourth start within the hour is refused
  CHECK_FALSE(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::max_starts_reached);
  CHECK(s.primary().reason.value == 3);
  CHECK(s.primary().reason.limit == 3);
  CHECK(s.primary().reason.remaining == 30min);  // the first start leaves the window at t = 65 min
  s.run(29min, 1min);
  CHECK_FALSE(s.primary().on);
  s.step(1min);
  CHECK(s.primary().on);
}

TEST_CASE("at most one load start per stagger interval") {
  test::Site s;
  s.instant();
  s.p.site.stagger = 30s;
  s.p.miners[1].require_sunny = false;
  s.start_minute = 11 * 60;
  s.monitor_v = 55.0;
  s.pv_w = 12000;
  s.load_w = 0;
  s.zone_c[1] = -10;  // the Main Room heater wants to start too
  s.step();
  CHECK(s.primary().on);
  CHECK_FALSE(s.dump().on);
  CHECK(s.dump().reason.code == ReasonCode::stagger_wait);
  CHECK(s.dump().reason.remaining == 30s);
  CHECK_FALSE(s.main_room().heater.on);
  CHECK(s.main_room().heater.reason.code == ReasonCode::stagger_wait);
  s.step(29s);
  CHECK_FALSE(s.dump().on);
  s.step(1s);
  CHECK(s.dump().on);
  CHECK_FALSE(s.main_room().heater.on);
  s.step(30s);
  CHECK(s.main_room().heater.on);
}

TEST_CASE("fans are not held back by the stagger") {
  test::Site s;
  s.instant();
  s.p.site.stagger = 30s;
  s.monitor_v = 52.0;
  s.zone_c[0] = 41;
  s.step();
  CHECK(s.primary().on);
  CHECK(s.heat_room().fan.on);
}

TEST_CASE("the start log keeps only the last hour, in fixed storage") {
  rules::StartLog log;
  const rules::SteadyTime t0 = rules::SteadyTime{} + 100h;
  for (int i = 0; i < 100; ++i) log.record(t0 + std::chrono::minutes(i));
  CHECK(log.count <= static_cast<std::size_t>(rules::kMaxStartsPerHour));
  CHECK(log.in_last_hour(t0 + 99min) == 60);
  CHECK(log.in_last_hour(t0 + 200min) == 0);
}

TEST_CASE("min off-time counts from the relay cut, not the decision, while a soft stop keeps a miner powered") {
  // Issue 46: a LuxOS peer was asleep and cut 40 s after its stop; its next start came 260 s after
  // the cut, with min_off 300 s counted from the decision.
  auto s = primary_only({0s, 5min, 0s, 0s, 0});
  s.monitor_v = 51.0;
  s.step();
  REQUIRE(s.primary().on);
  s.monitor_v = 46.5;
  s.step(10s);
  REQUIRE_FALSE(s.primary().on);  // decided off at t = 10 s
  // The daemon keeps its relay on while it winds down: 40 s, until t = 50 s.
  s.miner_powered[0] = true;
  s.monitor_v = 51.0;
  s.run(40s);
  s.miner_powered[0] = false;  // cut at t = 50 s
  s.run(4min);                 // t = 290 s: 300 s after the decision, 240 after the cut
  CHECK_FALSE(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::min_off_pending);
  CHECK(s.primary().reason.remaining == 60s);
  s.run(50s);
  CHECK_FALSE(s.primary().on);
  s.run(10s);  // t = 350 s: 300 s after the cut
  CHECK(s.primary().on);
}

TEST_CASE("max runtime: a run ends once it has lasted max_run, through stop_delay; min_off rests it") {
  auto s = primary_only({0s, 10min, 0s, 30s, 0});
  s.p.miners[0].max_run = 1h;
  s.monitor_v = 51.0;  // above start all along: only the run's length stops it
  s.step();
  REQUIRE(s.primary().on);  // on at t = 0
  s.run(1h - 10s);
  CHECK(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::running);
  s.step(10s);  // t = 1 h: the run has lasted max_run; the stop condition holds for stop_delay
  CHECK(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::stop_delay_pending);
  CHECK(s.primary().reason.cause == ReasonCode::max_runtime);
  s.run(30s);
  CHECK_FALSE(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::max_runtime);
  CHECK(s.primary().reason.value == doctest::Approx(3630));
  CHECK(s.primary().reason.limit == doctest::Approx(3600));
  CHECK(rules::describe(s.primary().reason).starts_with("ran its longest run"));
  // Rested for min_off, then a new run.
  s.run(10min - 10s);
  CHECK_FALSE(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::min_off_pending);
  s.step(10s);
  CHECK(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::running);
}

TEST_CASE("max runtime 0 is no limit; a negative one is refused") {
  auto s = primary_only({0s, 0s, 0s, 0s, 0});
  s.monitor_v = 51.0;
  s.step();
  s.run(24h, 10min);
  CHECK(s.primary().on);
  s.p.miners[0].max_run = -1s;
  const auto errors = rules::validate(s.p);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "miner 'Primary S21+': max_runtime_s -1.0 must not be negative");
}
