// A miner that follows the surplus with its power target: a step at a time up while the chargers
// hold PV back, to the measured surplus while they track, down by what the battery pays, asleep
// below its minimum, and never more writes than its limits allow. On the stepped clock.
#include <algorithm>
#include <cmath>

#include "tests/rules/harness.hpp"

using rules::ReasonCode;
using namespace std::chrono_literals;

namespace {

constexpr double kHouseW = 1500;
constexpr double kTaperW = 150;  // what a full bank still takes at float

// A full bank at 11:00, the dump load (miners[1]) with a power target 800-3600 W in 200 W steps.
test::Site bank_with_target() {
  test::Site s;
  s.start_minute = 11 * 60;
  s.p.miners[0].enabled = false;
  auto& dump = s.p.miners[1];
  dump.probe_hidden_surplus = true;
  dump.minimum_solar_w = 0;
  dump.require_sunny = false;
  dump.target = rules::PowerTarget{800, 3600, 200, 300s, 60s};
  s.monitor_v = 56.0;
  s.load_w = kHouseW;
  s.pv_w = kHouseW + kTaperW;
  s.battery_a = kTaperW / 56.0;
  s.chargers_limiting = 1;
  s.step();
  return s;
}

// The plant: the miner ramps to its target at 20 W/s (down at once) and says what it draws; the
// chargers give what is drawn plus the taper while the panels have more (limiting), else all the
// panels give and the battery pays the rest.
struct Plant {
  double panels_w = 0;  // what the panels could give
  double miner_w = 0;
  int writes = 0;
  int starts = 0;
  int stops = 0;
  double worst_a = 0;
  double paid_ah = 0;  // what the battery gave

  void step(test::Site& s, std::chrono::seconds dt = 10s) {
    const bool was_on = s.dump().on;
    s.step(dt);
    const auto& d = s.dump();
    starts += !was_on && d.on;
    stops += was_on && !d.on;
    writes += d.target_changed;
    const double target = d.on ? d.target_w.value_or(0) : 0;
    miner_w = target < miner_w ? target : std::min(target, miner_w + 20.0 * static_cast<double>(dt.count()));
    const double draw = kHouseW + miner_w;
    const bool limiting = panels_w > draw + kTaperW;
    const double pv = limiting ? draw + kTaperW : panels_w;
    s.load_w = draw;
    s.pv_w = pv;
    s.battery_a = (pv - draw) / 56.0;
    s.chargers_limiting = limiting ? 1 : 0;
    s.miner_w[1] = miner_w;
    worst_a = std::min(worst_a, *s.battery_a.value);
    if (*s.battery_a.value < 0) paid_ah += -*s.battery_a.value * static_cast<double>(dt.count()) / 3600;
  }
  void run(test::Site& s, std::chrono::seconds total) {
    for (auto t = 0s; t < total; t += 10s) step(s);
  }
};

}  // namespace

TEST_CASE("power target: probes up, twice as far after each raise that held, while the chargers hold PV back; settles under the hidden surplus") {
  auto s = bank_with_target();
  Plant plant{kHouseW + 2600 + kTaperW};  // 2600 W hidden
  plant.run(s, 30min);
  // 800, 900, 1100, 1500, 2300 W in 20 minutes; a step per interval would be at 1300 W.
  CHECK(*s.dump().target_w >= 2300);
  plant.run(s, 90min);
  CHECK(plant.starts == 1);
  CHECK(plant.stops == 0);
  REQUIRE(s.dump().on);
  REQUIRE(s.dump().target_w);
  CHECK(*s.dump().target_w == 2600);  // 800 + 9 steps of 200: all of it, never above
  // A raise too far is taken back at once: seconds of discharge, not minutes (the on/off probe
  // may cost up to probe_max_ah, 0.5 Ah, each time).
  CHECK(plant.paid_ah < 0.1);
  CHECK(plant.writes <= 12);          // the start, nine raises
  // The last hour: settled, not hunting.
  const int before = plant.writes;
  plant.run(s, 1h);
  CHECK(plant.writes == before);
  CHECK(*s.dump().target_w == 2600);
  CHECK(rules::describe(s.dump().target_reason) == "power target follows the surplus: 2600 W (limit 2750 W)");
}

TEST_CASE("power target: a raise waits for the write limit, and says so") {
  auto s = bank_with_target();
  Plant plant{kHouseW + 3000 + kTaperW};
  while (!s.dump().on) plant.step(s);
  std::optional<rules::SteadyTime> last = s.now;
  CHECK(s.dump().target_changed);
  CHECK(*s.dump().target_w == 800);  // a probe starts at the bottom
  CHECK(s.dump().target_reason.code == ReasonCode::target_start);
  plant.step(s);
  CHECK_FALSE(s.dump().target_changed);
  CHECK(s.dump().target_reason.code == ReasonCode::target_wait);
  CHECK(s.dump().target_reason.cause == ReasonCode::target_probe);
  CHECK(rules::describe(s.dump().target_reason) ==
        "power target change waits for the write limit (power target raised: the chargers hold PV back): 1000 W "
        "(limit 3600 W), 290 s left");
  // No two raises closer than the interval.
  double before = *s.dump().target_w;
  for (int i = 0; i < 360; ++i) {
    plant.step(s);
    if (s.dump().target_changed && *s.dump().target_w > before) {
      CHECK(s.now - *last >= 300s);
      last = s.now;
    }
    if (s.dump().target_w) before = *s.dump().target_w;
  }
}

TEST_CASE("power target: a cloud lowers it by what the battery pays, within the lower interval, and it stays on") {
  auto s = bank_with_target();
  Plant plant{kHouseW + 2600 + kTaperW};
  plant.run(s, 90min);
  REQUIRE(*s.dump().target_w == 2600);
  plant.panels_w = kHouseW + 1300;  // a cloud: 1300 W left for the miner
  plant.worst_a = 0;
  plant.step(s);
  CHECK(plant.worst_a < -5.0);
  int steps = 0;
  while (*s.dump().target_w > 1300 && steps < 12) {
    plant.step(s);
    ++steps;
  }
  CHECK(steps <= 7);  // at most the lower interval after the cloud
  CHECK(*s.dump().target_w <= 1200);
  CHECK(s.dump().on);  // a miner that can follow is not cut for a cloud it can follow
  plant.run(s, 10min);
  CHECK(s.dump().on);
  CHECK(*s.battery_a.value >= -5.0);
}

TEST_CASE("power target: below its minimum it stops, and the target goes with it") {
  auto s = bank_with_target();
  Plant plant{kHouseW + 2600 + kTaperW};
  plant.run(s, 90min);
  REQUIRE(s.dump().on);
  plant.panels_w = kHouseW + 300;  // less than the 800 W minimum
  int steps = 0;
  while (s.dump().on && steps < 60) {
    plant.step(s);
    ++steps;
  }
  CHECK_FALSE(s.dump().on);
  CHECK_FALSE(s.dump().target_w);
  CHECK(steps * 10 <= 60 + 180 + 20);  // lowered to the minimum, then the stop delay
}

TEST_CASE("power target: while the chargers track, it follows the measured surplus with hysteresis, not the noise") {
  auto s = bank_with_target();
  s.monitor_v = 53.8;  // charging, not full: the chargers track
  s.chargers_limiting = 0;
  s.p.miners[1].probe_hidden_surplus = false;
  s.p.miners[1].start_v = 53.5;
  s.p.miners[1].stop_v = 52.5;
  // 2300 W of surplus with +-150 W of noise, from a fixed sequence.
  unsigned seed = 12345;
  int writes = 0;
  std::optional<double> lowest, highest;
  for (int i = 0; i < 2 * 360; ++i) {
    seed = seed * 1103515245u + 12345u;
    const double noise = static_cast<double>((seed >> 16) % 301) - 150.0;
    const double miner = s.dump().on ? s.dump().target_w.value_or(0) : 0;
    s.load_w = kHouseW + miner;
    s.pv_w = kHouseW + 2300 + noise;
    s.battery_a = (2300 + noise - miner) / 53.8;
    s.step(10s);
    writes += s.dump().target_changed;
    if (s.dump().on && i > 60) {
      lowest = std::min(lowest.value_or(1e9), *s.dump().target_w);
      highest = std::max(highest.value_or(0), *s.dump().target_w);
    }
  }
  REQUIRE(s.dump().on);
  CHECK(*lowest >= 2000);
  CHECK(*highest <= 2400);
  CHECK(writes <= 4);  // 2 h of noise: the start and a handful, not one per reading
}

TEST_CASE("power target: below its start voltage it eases off a step at a time; its stop voltage still cuts at once") {
  auto s = bank_with_target();
  Plant plant{kHouseW + 2600 + kTaperW};
  plant.run(s, 90min);
  REQUIRE(*s.dump().target_w == 2600);
  s.monitor_v = 54.0;  // below the 54.5 V start, above the 53.0 V stop
  plant.step(s);
  CHECK(s.dump().target_reason.code == ReasonCode::target_voltage);
  CHECK(*s.dump().target_w == 2400);
  plant.step(s);
  CHECK(*s.dump().target_w == 2400);  // the next a lower interval later
  CHECK(s.dump().target_reason.code == ReasonCode::target_wait);
  s.monitor_v = 49.0;  // below the emergency stop
  plant.step(s);
  CHECK_FALSE(s.dump().on);
  CHECK(s.dump().reason.code == ReasonCode::emergency_stop);
}

TEST_CASE("power target: the owner's override runs it at its maximum") {
  auto s = bank_with_target();
  s.instant();
  s.state.miners[1].override_.mode = rules::OverrideMode::on;
  s.step(10s);
  REQUIRE(s.dump().on);
  CHECK(*s.dump().target_w == 3600);
  CHECK(s.dump().target_reason.code == ReasonCode::override_on);
}

TEST_CASE("power target: the house is the load less what the miner says it draws") {
  // The miner ramps: commanded 2600 W, drawing 1200 W. Counting its target would make the house
  // 1400 W too small and the surplus as much too large for the next miner.
  auto s = bank_with_target();
  s.monitor_v = 53.8;
  s.chargers_limiting = 0;
  s.p.miners[1].probe_hidden_surplus = false;
  s.p.miners[1].start_v = 53.5;
  s.p.miners[1].stop_v = 52.5;
  s.pv_w = kHouseW + 2700;
  s.load_w = kHouseW;
  s.battery_a = 2700 / 53.8;
  s.run(6min);
  REQUIRE(s.dump().on);
  REQUIRE(*s.dump().target_w == 2600);
  s.load_w = kHouseW + 1200;
  s.miner_w[1] = 1200;
  s.step(10s);
  CHECK(*s.dump().target_w == 2600);  // surplus = 4200 - (2700 - 1200) = 2700: unchanged
  CHECK(s.dump().target_reason.code == ReasonCode::target_surplus);
  CHECK(s.dump().target_reason.limit == doctest::Approx(2700));
}

TEST_CASE("power target: validate names the fields") {
  auto p = rules::solar_shack_defaults();
  p.miners[1].target = rules::PowerTarget{3600, 800, 200, 300s, 60s};
  auto errors = rules::validate(p);
  REQUIRE(errors.size() >= 1);
  CHECK(errors[0] == "miner 'Dump Load S19 #1': target min_w 3600.0 must be below target max_w 800.0 (rule: min_w < max_w)");
  p = rules::solar_shack_defaults();
  p.miners[0].target = rules::PowerTarget{800, 3600, 200, 300s, 60s};
  errors = rules::validate(p);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "miner 'Primary S21+': a power target needs require_excess_solar (it follows the solar surplus)");
}

TEST_CASE("power target: never raised on a guess: a raise waits until the miner draws within a step of its target") {
  auto s = bank_with_target();
  Plant plant{kHouseW + 3000 + kTaperW};
  while (!s.dump().on) plant.step(s);
  REQUIRE(*s.dump().target_w == 800);
  // The miner says it draws 300 W whatever its target (a firmware that took the write and did
  // nothing): the bank does not pay, but that answers nothing about a raise.
  for (int i = 0; i < 120; ++i) {
    plant.step(s);
    s.miner_w[1] = 300;
  }
  CHECK(*s.dump().target_w == 800);
  CHECK(plant.writes == 1);
  CHECK(s.dump().target_reason.code == ReasonCode::target_follow);
  CHECK(rules::describe(s.dump().target_reason) ==
        "power target raise waits for the miner to reach its target: it draws: 300 W (limit 800 W)");
  // Nor when it does not say what it draws.
  s.miner_w[1].missing();
  s.step(10s);
  CHECK(*s.dump().target_w == 800);
  CHECK(s.dump().target_reason.code == ReasonCode::target_follow);
  // Within a step of its target, the probe goes on.
  s.miner_w[1] = 750;
  s.step(10s);
  CHECK(*s.dump().target_w == 1000);
  CHECK(s.dump().target_reason.code == ReasonCode::target_probe);
}

TEST_CASE("power target: a miner whose firmware ignores its target runs on and off as one without") {
  auto s = bank_with_target();
  s.monitor_v = 53.8;  // charging, the chargers track: the measured surplus decides
  s.chargers_limiting = 0;
  s.p.miners[1].probe_hidden_surplus = false;
  s.p.miners[1].start_v = 53.5;
  s.p.miners[1].stop_v = 52.5;
  s.p.miners[1].minimum_excess_w = 3000;
  s.pv_w = kHouseW + 2000;
  s.load_w = kHouseW;
  s.battery_a = 2000 / 53.8;
  s.run(6min);
  REQUIRE(s.dump().on);  // on a target: 2000 W are there, more than its 800 W minimum
  REQUIRE(s.dump().target_w);
  s.load_w = kHouseW + 2000;  // it draws what it was given, and says so
  s.miner_w[1] = 2000;
  s.step(10s);
  REQUIRE(s.dump().on);
  s.miner_target_ignored[1] = true;
  s.step(10s);
  CHECK_FALSE(s.dump().target_w);  // no more target
  // As a miner without a target it needs its own minimum excess (3000 W): it stops after its
  // stop delay, and its draw counts as its rating.
  s.run(4min);
  CHECK_FALSE(s.dump().on);
  CHECK(s.dump().reason.code == ReasonCode::insufficient_surplus);
  CHECK(s.dump().reason.limit == doctest::Approx(3000));
}

namespace {
// The plant again, with a miner that ramps down as well as up (W/s), stepped every 2 s.
struct RampingPlant {
  double panels_w = 0, miner_w = 0, down_w_per_s = 20;
  double paying_s = 0, longest_paying_s = 0;  // the battery beyond the probe's 5 A
  int stops = 0;
  void step(test::Site& s) {
    const bool was_on = s.dump().on;
    s.step(2s);
    stops += was_on && !s.dump().on;
    const double target = s.dump().on ? s.dump().target_w.value_or(0) : 0;
    miner_w = target < miner_w ? std::max(target, miner_w - down_w_per_s * 2) : std::min(target, miner_w + 40.0);
    const double draw = kHouseW + miner_w;
    const bool limiting = panels_w > draw + kTaperW;
    const double pv = limiting ? draw + kTaperW : panels_w;
    s.load_w = draw;
    s.pv_w = pv;
    s.battery_a = (pv - draw) / 56.0;
    s.chargers_limiting = limiting ? 1 : 0;
    s.miner_w[1] = miner_w;
    paying_s = *s.battery_a.value < -5.0 ? paying_s + 2 : 0;
    longest_paying_s = std::max(longest_paying_s, paying_s);
  }
};
}  // namespace

TEST_CASE("power target: a cloud faster than the miner ramps down: the target falls at once, and the miner stops before the bank pays a minute") {
  auto s = bank_with_target();
  RampingPlant plant{kHouseW + 3400 + kTaperW};
  for (int i = 0; i < 3 * 1800; ++i) plant.step(s);
  REQUIRE(s.dump().on);
  REQUIRE(*s.dump().target_w >= 3000);
  const double before_w = *s.dump().target_w;
  // A cloud: 1200 W left for the miner, and it sheds 20 W/s.
  plant.panels_w = kHouseW + 1200;
  plant.step(s);
  plant.step(s);
  CHECK(*s.dump().target_w < before_w);  // at once, not a lower interval later
  CHECK(*s.dump().target_w <= 1200);
  int writes = 0;
  for (int i = 0; i < 30 && s.dump().on; ++i) {
    plant.step(s);
    writes += s.dump().target_changed;
  }
  // It cannot shed 2000 W at 20 W/s within the rules' half minute: stopped, for the relay to cut
  // within the other half.
  CHECK_FALSE(s.dump().on);
  CHECK(s.dump().reason.code == ReasonCode::target_too_slow);
  CHECK(plant.stops == 1);
  // 30 s from the first reading of it, plus the cycle before the rules read it and the cycle
  // that decided.
  CHECK(plant.longest_paying_s <= 34);
  CHECK(writes <= 3);  // not one write a cycle while it ramps
  CHECK(rules::describe(s.dump().reason).starts_with("stopped: the battery paid while its target came down: -"));
}

TEST_CASE("power target: a cloud the miner can follow in time lowers it at once and leaves it on") {
  auto s = bank_with_target();
  RampingPlant plant{kHouseW + 3400 + kTaperW, 0, 200};  // sheds 200 W/s
  for (int i = 0; i < 3 * 1800; ++i) plant.step(s);
  REQUIRE(*s.dump().target_w >= 3000);
  plant.panels_w = kHouseW + 1800;
  plant.longest_paying_s = 0;
  for (int i = 0; i < 120; ++i) plant.step(s);
  CHECK(s.dump().on);
  CHECK(*s.dump().target_w <= 1800);
  CHECK(plant.longest_paying_s <= 10);
}
