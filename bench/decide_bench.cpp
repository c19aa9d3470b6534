// rules::decide() for 10 miners and 4 zones, in steady state.
// Goal (issue 2): <= 2 us per call on the development machine, and no heap allocation per call.
// Run: build/bench/decide_bench   (figures in README "Performance")
#include <benchmark/benchmark.h>

#include "rules/decide.hpp"
#include "rules/validate.hpp"
#include "tests/support/alloc_counter.hpp"

namespace {

using namespace std::chrono_literals;

rules::Profiles ten_miners_four_zones() {
  rules::Profiles p = rules::solar_shack_defaults();
  const rules::MinerProfile primary = p.miners[0];
  const rules::MinerProfile dump = p.miners[1];
  p.miners.clear();
  for (int i = 0; i < 10; ++i) {
    rules::MinerProfile m = i % 2 ? dump : primary;
    m.name = "miner " + std::to_string(i);
    m.priority = 1 + i;
    p.miners.push_back(m);
  }
  const auto zones = p.zones;
  p.zones = {zones[0], zones[1], zones[0], zones[1]};
  for (int i = 0; i < 4; ++i) p.zones[static_cast<std::size_t>(i)].name = "zone " + std::to_string(i);
  return p;
}

void BM_decide_10_miners_4_zones(benchmark::State& bs) {
  const rules::Profiles p = ten_miners_four_zones();
  if (!rules::validate(p).empty()) {
    bs.SkipWithError("invalid profiles");
    return;
  }
  rules::State state;
  rules::Decision d;
  rules::Snapshot snap;
  snap.now = rules::SteadyTime{} + 1000h;
  snap.local_minute_of_day = 12 * 60;
  snap.zone_temp_c.resize(4);
  snap.battery_v = {{"monitor", "the monitor", {}}, {"gx", "the GX", {}}, {"inverter", "the inverter", {}}};
  snap.battery_temp_c = {{"monitor", "the monitor's sensor", {}}};
  double v = 52.0;
  long allocations_in_loop = 0;
  long calls = 0;
  // Warm-up: sizes every vector once.
  rules::decide(snap, p, state, d);
  state = d.next;
  for (auto _ : bs) {
    snap.now += 2s;
    v = v > 55.0 ? 48.0 : v + 0.01;  // sweeps starts and stops over the run
    snap.battery_v[0].reading = rules::Reading{v, snap.now};
    snap.battery_v[1].reading = rules::Reading{v + 0.04, snap.now};
    snap.battery_a = rules::Reading{-20, snap.now};
    snap.battery_temp_c[0].reading = rules::Reading{15, snap.now};
    snap.pv_w = rules::Reading{9000, snap.now};
    snap.load_w = rules::Reading{1500, snap.now};
    for (auto& z : snap.zone_temp_c) z = rules::Reading{38, snap.now};
    const long before = alloc_counter::now();
    rules::decide(snap, p, state, d);
    state = d.next;
    allocations_in_loop += alloc_counter::now() - before;
    ++calls;
    benchmark::DoNotOptimize(d);
  }
  bs.counters["allocs_per_call"] = calls ? static_cast<double>(allocations_in_loop) / static_cast<double>(calls) : 0;
}
BENCHMARK(BM_decide_10_miners_4_zones);

}  // namespace

BENCHMARK_MAIN();
