// rules::decide() for 10 miners and 4 zones, in steady state; again with 5 of them following a
// power target; again with the AC budget on (issue 59: a rated split-phase inverter, its loads
// on both legs, its measured legs and overload words read every cycle); again with a generator
// on it as well (issue 59, part 4: the generator running two cycles in three, its output read,
// the miners' on_generator policies mixed), to compare as ratios in one run.
// Goal (issue 2): <= 2 us per call on the development machine, and no heap allocation per call.
// Run: build/bench/decide_bench   (figures in README "Performance")
#include <benchmark/benchmark.h>

#include <cmath>

#include "rules/decide.hpp"
#include "rules/validate.hpp"
#include "tests/support/alloc_counter.hpp"

namespace {

using namespace std::chrono_literals;

// `targets`: the dump miners (every other one) follow the surplus with a power target and probe
// for hidden surplus, as issue 28's modulating loads do.
rules::Profiles ten_miners_four_zones(bool targets) {
  rules::Profiles p = rules::solar_shack_defaults();
  const rules::MinerProfile primary = p.miners[0];
  const rules::MinerProfile dump = p.miners[1];
  p.miners.clear();
  for (int i = 0; i < 10; ++i) {
    rules::MinerProfile m = i % 2 ? dump : primary;
    m.name = "miner " + std::to_string(i);
    m.priority = 1 + i;
    if (targets && i % 2) {
      m.target = rules::PowerTarget{800, 3600, 100, 300s, 60s};
      m.probe_hidden_surplus = true;
    }
    p.miners.push_back(m);
  }
  const auto zones = p.zones;
  p.zones = {zones[0], zones[1], zones[0], zones[1]};
  for (int i = 0; i < 4; ++i) p.zones[static_cast<std::size_t>(i)].name = "zone " + std::to_string(i);
  return p;
}

// The AC budget on: one split-phase inverter with room for some of the loads, miners on both legs.
void with_budget(rules::Profiles& p) {
  rules::AcSource inverter;
  inverter.phases = 2;
  inverter.continuous_w = 9000;
  inverter.surge_w = 18000;
  p.ac_sources = {inverter};
  for (std::size_t i = 0; i < p.miners.size(); ++i) p.miners[i].feed = {0, i % 2};
  for (std::size_t i = 0; i < p.zones.size(); ++i) {
    p.zones[i].heater_power_w = 1500;
    p.zones[i].heater_feed = {0, i % 2};
  }
}

// A generator on the inverter's input, split phase like it, and the miners' policies mixed:
// surplus_only, allow, never in turn (the heaters allow, their default).
void with_generator(rules::Profiles& p) {
  rules::AcSource generator;
  generator.name = "generator";
  generator.kind = rules::AcSourceKind::generator;
  generator.phases = 2;
  generator.continuous_w = 7000;
  p.ac_sources.push_back(generator);
  const rules::GeneratorPolicy policies[] = {rules::GeneratorPolicy::surplus_only, rules::GeneratorPolicy::allow,
                                             rules::GeneratorPolicy::never};
  for (std::size_t i = 0; i < p.miners.size(); ++i) p.miners[i].on_generator = policies[i % 3];
}

void run(benchmark::State& bs, bool targets, bool budget = false, bool generator = false) {
  rules::Profiles p = ten_miners_four_zones(targets);
  if (budget) with_budget(p);
  if (generator) with_generator(p);
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
  snap.miner_w.resize(targets ? 10 : 0);
  snap.ac.resize(budget ? (generator ? 2 : 1) : 0);
  double v = 52.0;
  long allocations_in_loop = 0;
  long calls = 0;
  long target_changes = 0;  // proof that the target path ran
  long ac_reasons = 0;      // proof that the budget held and shed
  long generator_reasons = 0;  // proof that the policies held and stopped
  double step = 0;
  // Warm-up: sizes every vector once.
  rules::decide(snap, p, state, d);
  state = d.next;
  for (auto _ : bs) {
    snap.now += 2s;
    step += 1;
    if (targets) {
      // A full bank's afternoon: the voltage about float, the bank's current swinging around
      // zero, the chargers holding PV back half the time: the targets start, probe, follow
      // and lower over the run.
      v = 55.0 + 0.6 * std::sin(step / 400.0);
    } else {
      v = v > 55.0 ? 48.0 : v + 0.01;  // sweeps starts and stops over the run
    }
    snap.battery_v[0].reading = rules::Reading{v, snap.now};
    snap.battery_v[1].reading = rules::Reading{v + 0.04, snap.now};
    // With targets: the chargers hold PV back and the bank swings around zero, so the targets
    // probe, follow and lower over the run.
    snap.battery_a = rules::Reading{targets ? 8 * std::sin(step / 37.0) : -20, snap.now};
    if (targets) snap.chargers_limiting = rules::Reading{std::sin(step / 90.0) > 0 ? 1.0 : 0.0, snap.now};
    for (auto& w : snap.miner_w) w = rules::Reading{2400, snap.now};
    snap.battery_temp_c[0].reading = rules::Reading{15, snap.now};
    snap.pv_w = rules::Reading{9000, snap.now};
    snap.load_w = rules::Reading{1500, snap.now};
    for (auto& z : snap.zone_temp_c) z = rules::Reading{targets ? 25.0 : 38.0, snap.now};
    if (budget) {
      // Legs that swing through the rating, a warning now and then: holds and sheds both run.
      snap.ac[0].overload = rules::Reading{std::sin(step / 53.0) > 0.9 ? 1.0 : 0.0, snap.now};
      for (std::size_t k = 0; k < 2; ++k) {
        snap.ac[0].phase[k].load_w = rules::Reading{6000 + 3500 * std::sin(step / (70.0 + 10.0 * static_cast<double>(k))), snap.now};
      }
    }
    if (generator) {
      // Running two cycles in three, in runs of about a minute; its legs swing through its rating.
      snap.generator_running = rules::Reading{std::fmod(step, 90.0) < 60.0 ? 1.0 : 0.0, snap.now};
      for (std::size_t k = 0; k < 2; ++k) {
        snap.ac[1].phase[k].load_w = rules::Reading{4000 + 3500 * std::sin(step / (60.0 + 10.0 * static_cast<double>(k))), snap.now};
      }
    }
    const long before = alloc_counter::now();
    rules::decide(snap, p, state, d);
    state = d.next;
    allocations_in_loop += alloc_counter::now() - before;
    ++calls;
    for (const auto& m : d.miners) {
      target_changes += m.target_changed;
      const auto c = m.reason.code;
      ac_reasons += c == rules::ReasonCode::ac_budget || c == rules::ReasonCode::ac_overload ||
                    c == rules::ReasonCode::ac_overload_hold || c == rules::ReasonCode::ac_surge ||
                    c == rules::ReasonCode::ac_heater_room;
      generator_reasons += c == rules::ReasonCode::generator_never || c == rules::ReasonCode::generator_surplus;
    }
    benchmark::DoNotOptimize(d);
  }
  bs.counters["target_changes"] = static_cast<double>(target_changes);
  if (budget) bs.counters["ac_reasons"] = static_cast<double>(ac_reasons);
  if (generator) bs.counters["generator_reasons"] = static_cast<double>(generator_reasons);
  bs.counters["allocs_per_call"] = calls ? static_cast<double>(allocations_in_loop) / static_cast<double>(calls) : 0;
}
void BM_decide_10_miners_4_zones(benchmark::State& bs) { run(bs, false); }
BENCHMARK(BM_decide_10_miners_4_zones);
void BM_decide_10_miners_4_zones_5_targets(benchmark::State& bs) { run(bs, true); }
BENCHMARK(BM_decide_10_miners_4_zones_5_targets);
void BM_decide_10_miners_4_zones_ac_budget(benchmark::State& bs) { run(bs, false, true); }
BENCHMARK(BM_decide_10_miners_4_zones_ac_budget);
void BM_decide_10_miners_4_zones_ac_budget_generator(benchmark::State& bs) { run(bs, false, true, true); }
BENCHMARK(BM_decide_10_miners_4_zones_ac_budget_generator);

}  // namespace

BENCHMARK_MAIN();
