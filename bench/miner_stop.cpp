// What a soft stop costs: from the decision to stop a mining miner to its draw below idle, through
// its API (sleep first, the relay after) against the relay alone, and the charge the bank gives
// the miner meanwhile. On the simulated site through the whole daemon (tests/support/sim_site.hpp:
// the simulator's model and Modbus servers, the relays on the in-process broker, each miner the
// simulator's model of its firmware behind the kind's own client, a 2 s loop on a stepped clock).
// A night at 22:00: the primary (3878 W, stop 47.0 V, emergency 45.0 V, docs/solar-shack.md)
// mines on a 54 V bank with no sun; at 900 s the bank reads 46.5 V (an ordinary stop) or 44.8 V
// (an emergency stop, which gives the API one cycle). Figures, not timings.
// Run: build/bench/miner_stop   (figures in docs/development.md, "A soft stop")
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "tests/support/sim_site.hpp"

namespace {

constexpr std::int64_t kTenPmPdt = 1782104400000;  // 2026-06-21 22:00 America/Los_Angeles
constexpr double kCrossS = 900;
constexpr double kPrimaryW = 3878;

struct Case {
  const char* name;
  const char* kind;  // nullptr: the relay alone (a Tasmota reporting the load's power)
  double wind_down_s = 0;
  double stop_v = 46.5;
  bool api_dead = false;
};

struct Result {
  std::optional<double> decide_s, idle_s, cut_s;  // after the crossing
  double cut_w = 0;                               // what the relay broke
  double stopping_ah = 0;                         // the miner's draw from the decision to idle
  double crossing_ah = 0;                         // and from the crossing to idle
};

Result run(const Case& c) {
  test::SimSite site;
  site.scenario.rows.push_back({0, {{"battery_v", 54.0}, {"pv_w", 0}, {"house_w", 500}, {"battery_temp_c", 20}}});
  site.scenario.rows.push_back({kCrossS - 0.1, {{"battery_v", 54.0}}});
  site.scenario.rows.push_back({kCrossS, {{"battery_v", c.stop_v}}});
  site.scenario.rows.push_back({kCrossS + 600, {{"battery_v", c.stop_v}}});
  std::string config = test::read_text(SHACKD_SOURCE_DIR "/tests/e2e/afternoon.yaml");
  // The primary alone, as the Solar Shack sets it; the dump load's afternoon does not apply.
  const std::string off = "      enabled: false\n";
  const std::string probe = "      probe_hidden_surplus: true\n";
  config.replace(config.find(off), off.size(), "");
  config.replace(config.find(probe), probe.size(), off);
  double idle_w = 0;
  if (c.kind) {
    sim::MinerModel m;
    m.kind = drivers::miners::find_miner_kind(c.kind);
    m.nominal_w = kPrimaryW;
    m.wind_down_s = c.wind_down_s;
    m.api_dead = c.api_dead;
    site.miners["primary_s21"] = m;
    idle_w = m.kind->idle_w;
    config += fmt::format("miners:\n  primary_s21: {{kind: {}, host: 127.0.0.1{}}}\n", c.kind,
                          std::string(c.kind) == "luxos" ? "" : ", password: sim-secret");
  } else {
    site.metered.insert("primary_s21");
  }
  if (!site.start(config, kTenPmPdt)) throw std::runtime_error("shackd did not start: see its log above");
  site.run_until(kCrossS - 2);
  // What the miner draws now (the model's next interval takes it): the firmware's own figure
  // behind a closed relay, the rating behind the relay alone.
  const auto draw_w = [&] {
    double w = 0;
    site.with_model([&](const sim::SiteModel& m) {
      const auto& load = m.loads.at("primary_s21");
      w = !load.on ? 0 : c.kind ? site.miners.at("primary_s21").draw_w() : load.power_w;
    });
    return w;
  };
  if (draw_w() < 3000) throw std::runtime_error(fmt::format("{}: the primary is not mining before the stop", c.name));
  Result r;
  const int sleeps_before = c.kind ? site.miners.at("primary_s21").sleeps : 0;
  while (site.t_s < kCrossS + 300 && !(r.idle_s && r.cut_s)) {
    const double w_before = draw_w();
    const std::size_t switches = site.switches.size();
    double v = 0;
    site.with_model([&](const sim::SiteModel& m) { v = m.battery_v(); });
    site.step();
    const double after_s = site.t_s - kCrossS;
    // The interval just run drew what the miner drew at its start (afternoon.yaml's 2 s).
    if (!r.idle_s) r.crossing_ah += w_before / v * 2.0 / 3600;
    if (r.decide_s && !r.idle_s) r.stopping_ah += w_before / v * 2.0 / 3600;
    const bool slept = c.kind && site.miners.at("primary_s21").sleeps > sleeps_before;
    for (std::size_t i = switches; i < site.switches.size(); ++i) {
      if (site.switches[i].relay == "primary_s21" && !site.switches[i].on && !r.cut_s) {
        r.cut_s = after_s;
        // What the relay broke: the miner's draw as the cycle that cut it read it (the model
        // sees the open relay from its next step on).
        r.cut_w = c.kind ? site.miners.at("primary_s21").draw_w() : w_before;
      }
    }
    if (!r.decide_s && (slept || r.cut_s)) r.decide_s = after_s;
    if (r.decide_s && !r.idle_s && draw_w() < std::max(idle_w, 1.0)) r.idle_s = after_s;
  }
  return r;
}

std::string secs(const std::optional<double>& s) { return s ? fmt::format("{:.0f} s", *s) : "never"; }

}  // namespace

int main() {
  const Case cases[] = {
      {"relay alone, ordinary stop", nullptr},
      {"LuxOS, ordinary stop", "luxos"},
      {"LuxOS, ordinary stop, 10 s wind-down", "luxos", 10},
      {"Whatsminer, ordinary stop, 10 s wind-down", "whatsminer", 10},
      {"Braiins OS, ordinary stop, 10 s wind-down", "braiins", 10},
      {"LuxOS, API dead, ordinary stop", "luxos", 0, 46.5, true},
      {"relay alone, emergency stop", nullptr, 0, 44.8},
      {"LuxOS, emergency stop, 10 s wind-down", "luxos", 10, 44.8},
  };
  try {
    fmt::print("{:<44} {:>8} {:>10} {:>9} {:>9} {:>14} {:>14}\n", "case (times after the crossing)", "decided",
               "below idle", "relay cut", "cut at", "decided->idle", "crossing->idle");
    for (const auto& c : cases) {
      const Result r = run(c);
      fmt::print("{:<44} {:>8} {:>10} {:>9} {:>7.0f} W {:>11.3f} Ah {:>11.3f} Ah\n", c.name, secs(r.decide_s),
                 secs(r.idle_s), secs(r.cut_s), r.cut_w, r.stopping_ah, r.crossing_ah);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "miner_stop: {}\n", e.what());
    return 1;
  }
}
