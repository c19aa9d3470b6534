// The share of a full bank's hidden surplus a dump miner uses, switched on and off (3250 W, a
// hidden-surplus probe) against following it with a power target (800-3600 W): one afternoon,
// the rules on a stepped clock, a plant in which the chargers give what is drawn while the panels
// have more, and the battery pays the rest. Figures, not timings (issue 28's goals: >= 90 % of the
// hidden surplus, <= 12 target writes an hour, one start and one stop).
// Run: build/bench/surplus_share   (figures in docs/development.md, "Following the surplus")
#include <fmt/format.h>

#include "bench/surplus_afternoon.hpp"

#include <algorithm>
#include <cmath>

#include "rules/decide.hpp"
#include "rules/validate.hpp"

namespace {

using namespace std::chrono_literals;

constexpr double kHouseW = 1500;
constexpr double kTaperW = 150;  // what a full bank still takes at float
constexpr double kBankV = 56.0;

bench::SurplusResult afternoon(bool follow) {
  rules::Profiles p = rules::solar_shack_defaults();
  p.miners[0].enabled = false;
  auto& dump = p.miners[1];
  dump.probe_hidden_surplus = true;
  dump.minimum_solar_w = 0;
  dump.require_sunny = false;
  if (follow) dump.target = rules::PowerTarget{800, 3600, 100, 300s, 60s};
  if (!rules::validate(p).empty()) throw std::runtime_error(rules::validate(p).front());

  rules::State state;
  rules::Decision d;
  rules::SteadyTime now = rules::SteadyTime{} + 1000h;
  const int start_min = 10 * 60, end_min = 16 * 60;  // the dump's schedule
  double miner_w = 0, pv = kHouseW, load = kHouseW, amps = 0;
  bool limiting = true, was_on = false;
  bench::SurplusResult r;
  constexpr double dt_s = 5;
  // Ten minutes past the schedule's end, so that its stop is counted.
  for (double t = 0; t < (end_min + 10 - start_min) * 60; t += dt_s) {
    const double minute = start_min + t / 60;
    rules::Snapshot s;
    s.now = now;
    s.local_minute_of_day = static_cast<int>(minute);
    s.battery_v = {{"monitor", "the monitor", rules::Reading{kBankV + (amps < 0 ? amps * 0.02 : 0), now}}};
    s.battery_a = rules::Reading{amps, now};
    s.battery_temp_c = {{"monitor", "the monitor's sensor", rules::Reading{20, now}}};
    s.pv_w = rules::Reading{pv, now};
    s.load_w = rules::Reading{load, now};
    s.chargers_limiting = rules::Reading{limiting ? 1.0 : 0.0, now};
    s.zone_temp_c = {rules::Reading{20, now}, rules::Reading{20, now}};
    s.miner_w = {std::nullopt, rules::Reading{miner_w, now}};
    rules::decide(s, p, state, d);
    state = d.next;
    const auto& m = d.miners[1];
    r.starts += m.on && !was_on;
    r.stops += !m.on && was_on;
    r.writes += m.target_changed;
    was_on = m.on;

    // The miner: a switched one draws its rating; a following one ramps up to its target at
    // 20 W/s and sheds at once.
    const double goal = !m.on ? 0 : (m.target_w ? *m.target_w : dump.power_w);
    miner_w = goal < miner_w ? goal : std::min(goal, miner_w + 20 * dt_s);
    if (!follow) miner_w = goal;
    const double panels = bench::panels_w(minute);
    const double draw = kHouseW + miner_w;
    limiting = panels > draw + kTaperW;
    pv = limiting ? draw + kTaperW : panels;
    load = draw;
    amps = (pv - draw) / kBankV;
    const double hidden = std::clamp(panels - kHouseW - kTaperW, 0.0, 3600.0);
    if (minute < end_min) r.hidden_kwh += hidden * dt_s / 3.6e6;
    if (minute < end_min) r.used_kwh += std::min(miner_w, std::max(0.0, pv - kHouseW)) * dt_s / 3.6e6;
    if (amps < 0) r.battery_ah += -amps * dt_s / 3600;
    now += std::chrono::seconds(static_cast<int>(dt_s));
  }
  r.hours = (end_min - start_min) / 60.0;
  return r;
}

}  // namespace

int main() {
  bench::print("switched (3250 W, probing)", afternoon(false));
  bench::print("following (800-3600 W target)", afternoon(true));
}
