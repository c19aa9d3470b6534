#pragma once
// A full-battery afternoon with hidden surplus, the dump load a miner of a given kind following
// its power target (or switched on its relay), on the simulated site through the whole daemon
// (tests/support/sim_site.hpp): bench/surplus_afternoon.hpp's 10:00-16:00 (a clear 10 kWp day, a
// 20-minute cloud to 40 % at 13:30, a 30 % overcast from 15:00, a 1500 W house), the dump load's
// minimum solar off and its schedule the afternoon's. What the simulator's firmwares do is
// sim/miner_model.hpp's (its 90 s boot, a 120 s ramp up; a Whatsminer's normal mode over 180 s
// both ways). Shared by tests/scenarios/miner_afternoon_test.cpp and bench/surplus_site.cpp.
#include <algorithm>
#include <string>

#include "bench/surplus_afternoon.hpp"
#include "tests/support/sim_site.hpp"

namespace test {

struct MinerAfternoon {
  std::string kind;          // "braiins", "luxos", "whatsminer", "whatsminer_v2"; empty: switched on its relay
  double down_w_per_s = 0;   // its draw falls at most this fast to a lower target (0: at once)
  bool ignores_target = false;
  int from_minute = 10 * 60, to_minute = 16 * 60;
};

struct MinerAfternoonResult {
  bench::SurplusResult surplus;
  double longest_paying_s = 0;  // the longest spell of the bank paying more than the probe's 5 A
  double paid_beyond_ah = 0;    // what it paid in such spells
  int sleeps = 0;
  bool persists = false;        // its firmware saves each target (the flash-wear limit applies)
};

inline MinerAfternoonResult run_miner_afternoon(const MinerAfternoon& a) {
  constexpr double kHouseW = 1500;
  constexpr std::int64_t kMidnightPdt = 1782025200000;  // 2026-06-21 00:00 America/Los_Angeles
  test::SimSite site;
  for (int minute = a.from_minute; minute <= a.to_minute + 10; ++minute) {
    site.scenario.rows.push_back({(minute - a.from_minute) * 60.0, {{"battery_v", 56.0}, {"pv_w", bench::panels_w(minute)},
                                                                    {"house_w", kHouseW}, {"battery_temp_c", 20}}});
  }
  site.model.absorption_v = 55.5;
  std::string config = test::read_text(SHACKD_SOURCE_DIR "/tests/e2e/afternoon.yaml");
  const auto hhmm = [](int m) {
    const std::string h = std::to_string(m / 60), mm = std::to_string(m % 60);
    return (h.size() < 2 ? "0" + h : h) + ":" + (mm.size() < 2 ? "0" + mm : mm);
  };
  const std::string probe = "probe_hidden_surplus: true\n";
  config.replace(config.find(probe), probe.size(),
                 probe + "      minimum_solar_w: 0\n      require_sunny: false\n      schedule: \"" + hhmm(a.from_minute) + "-" +
                     hhmm(a.to_minute) + "\"\n      allow_outside_schedule: false\n");
  MinerAfternoonResult r;
  if (!a.kind.empty()) {
    sim::MinerModel m;
    m.kind = drivers::miners::find_miner_kind(a.kind);
    if (!m.kind) throw std::runtime_error("no miner kind " + a.kind);
    r.persists = m.kind->target_persists;
    m.min_target_w = 800;
    m.max_target_w = 3600;
    m.down_w_per_s = a.down_w_per_s;
    m.ignores_target = a.ignores_target;
    std::string target = "target: {min_w: 800, max_w: 3600, step_w: 100}";
    if (m.kind->target_percent) {
      m.nominal_w = 3600;  // a percent of its rating: rated as the others' largest target
      target = "target: {min_w: 800, max_w: 3600, step_w: 100, rated_w: 3600}";
    }
    site.miners["dump_s19_1"] = m;
    config += "miners:\n  dump_s19_1: {kind: " + a.kind + ", host: 127.0.0.1, password: sim-secret, " + target + "}\n";
  } else {
    site.metered.insert("dump_s19_1");
  }
  if (!site.start(config, kMidnightPdt + static_cast<std::int64_t>(a.from_minute) * 60000)) {
    throw std::runtime_error("shackd did not start: see its log above");
  }
  const double span_s = (a.to_minute - a.from_minute) * 60.0;
  const double taper_w = site.model.taper_a * 56.0;
  double paying_s = 0;
  // Ten minutes past the schedule's end, so that its stop is counted.
  while (site.t_s < span_s + 600) {
    site.step();
    if (site.t_s > span_s) continue;
    site.with_model([&](const sim::SiteModel& m) {
      const auto& dump = m.loads.at("dump_s19_1");
      const double draw = dump.on ? dump.power_w : 0;
      const double dt_h = 2.0 / 3600;  // afternoon.yaml's 2 s
      r.surplus.hidden_kwh += std::clamp(m.pv_w - kHouseW - taper_w, 0.0, 3600.0) * dt_h / 1000;
      r.surplus.used_kwh += std::min(draw, std::max(0.0, m.pv_victron_w() + m.pv_solark_w() - kHouseW)) * dt_h / 1000;
      if (m.battery_a() < -5.0) {
        paying_s += 2;
        r.paid_beyond_ah += -m.battery_a() * dt_h;
      } else {
        paying_s = 0;
      }
      r.longest_paying_s = std::max(r.longest_paying_s, paying_s);
    });
  }
  for (const auto& s : site.switches) {
    if (s.relay != "dump_s19_1") continue;
    (s.on ? r.surplus.starts : r.surplus.stops) += 1;
  }
  r.surplus.battery_ah = site.discharged_ah;
  r.surplus.hours = span_s / 3600;
  if (!a.kind.empty()) {
    r.surplus.writes = site.miners["dump_s19_1"].target_writes;
    r.sleeps = site.miners["dump_s19_1"].sleeps;
  }
  return r;
}

}  // namespace test
