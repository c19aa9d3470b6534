// decide() allocates nothing in steady state (issue 2's performance goal, checked as a count,
// not a time).
#include "harness.hpp"
#include "tests/support/alloc_counter.hpp"

using namespace std::chrono_literals;

TEST_CASE("decide() makes no heap allocation per call in steady state") {
  test::Site s;
  s.monitor_v = 52.0;
  s.pv_w = 9000;
  s.load_w = 1500;
  s.zone_c[0] = 41;
  rules::Snapshot snap = s.snapshot();
  rules::decide(snap, s.p, s.state, s.d);  // the first call sizes every vector
  s.state = s.d.next;

  const long before = alloc_counter::now();
  for (int i = 0; i < 2000; ++i) {
    snap.now += 2s;
    const double v = 46.0 + (i % 100) * 0.1;  // sweeps starts, stops and emergencies
    snap.battery_v[0].reading = rules::Reading{v, snap.now};
    snap.pv_w = rules::Reading{9000, snap.now};
    snap.load_w = rules::Reading{1500, snap.now};
    snap.zone_temp_c[0] = rules::Reading{i % 2 ? 41.0 : 30.0, snap.now};
    rules::decide(snap, s.p, s.state, s.d);
    s.state = s.d.next;
  }
  CHECK(alloc_counter::now() - before == 0);
}

TEST_CASE("decide() stays allocation-free with a miner that follows the surplus with its power target") {
  test::Site s;
  auto& dump = s.p.miners[1];
  dump.target = rules::PowerTarget{800, 3600, 200, 300s, 60s};
  dump.probe_hidden_surplus = true;
  dump.minimum_solar_w = 0;
  dump.require_sunny = false;
  dump.allow_outside_schedule = true;
  s.instant();
  rules::Snapshot snap = s.snapshot();
  snap.miner_w = {std::nullopt, rules::Reading{0, snap.now}};
  rules::decide(snap, s.p, s.state, s.d);
  s.state = s.d.next;

  const long before = alloc_counter::now();
  int targets = 0;
  for (int i = 0; i < 2000; ++i) {
    snap.now += 10s;
    const double v = 54.0 + (i % 40) * 0.1;  // below and above its start
    snap.battery_v[0].reading = rules::Reading{v, snap.now};
    snap.battery_a = rules::Reading{i % 7 == 0 ? -20.0 : 2.0, snap.now};
    snap.chargers_limiting = rules::Reading{i % 3 == 0 ? 0.0 : 1.0, snap.now};
    snap.pv_w = rules::Reading{1500.0 + (i % 50) * 60.0, snap.now};
    snap.load_w = rules::Reading{1500, snap.now};
    snap.miner_w[1] = rules::Reading{1000, snap.now};
    rules::decide(snap, s.p, s.state, s.d);
    s.state = s.d.next;
    targets += s.d.miners[1].target_changed;
  }
  CHECK(alloc_counter::now() - before == 0);
  CHECK(targets > 0);  // the target path ran
}
