#pragma once
// A stepped-time test site: inputs are set by name, time is advanced by the test, and every
// step runs rules::decide() with the state the previous step returned. Nothing sleeps.
#include <doctest/doctest.h>

#include <array>
#include <optional>
#include <string>

#include "rules/decide.hpp"
#include "rules/validate.hpp"

namespace test {

using namespace std::chrono_literals;

// One input: fresh readings are re-stamped every step; a frozen one keeps its old stamp.
struct Input {
  std::optional<double> value;
  bool frozen = false;
  rules::SteadyTime as_of{};

  void operator=(double v) { value = v; frozen = false; }
  void missing() { value.reset(); }
  void freeze() { frozen = true; }
  std::optional<rules::Reading> reading() const {
    if (!value) return std::nullopt;
    return rules::Reading{*value, as_of};
  }
};

struct Site {
  rules::Profiles p = rules::solar_shack_defaults();
  rules::State state;
  rules::Decision d;
  // Start far from the epoch so that "an hour ago" is a valid instant.
  rules::SteadyTime now = rules::SteadyTime{} + std::chrono::hours(1000);
  int start_minute = 12 * 60;  // local wall-clock time at the start
  std::chrono::seconds elapsed{0};
  bool clock_trusted = true;

  Input monitor_v, gx_v, solark_v, battery_a, battery_temp_c, pv_w, load_w;
  Input chargers_limiting;  // 1: the chargers hold PV back (absorption, float)
  Input generator_running;  // 1: a generator feeds the site, 0: none; missing unless set
  std::vector<Input> zone_c = std::vector<Input>(2);
  std::vector<Input> miner_w = std::vector<Input>(2);  // what each miner says it draws; missing unless set
  std::vector<Input> miner_temp_c = std::vector<Input>(2);  // each miner's hottest sensor; missing unless set
  std::vector<std::optional<double>> miner_temp_limit_c = std::vector<std::optional<double>>(2);
  bool pv_partial = false, load_partial = false;  // a part of the sum is missing: a lower bound
  std::optional<rules::Snapshot::ControllerHeat> controller_overheat;  // the shell sheds the loads
  std::vector<bool> miner_powered = std::vector<bool>(2);         // its relay still on after a stop (a soft stop)
  std::vector<bool> miner_target_ignored = std::vector<bool>(2);  // its firmware does not follow its target
  // What each AC source says of itself (rules::AcSourceReadings); missing unless set.
  struct AcPhaseInput {
    Input load_w, overload;
  };
  struct AcInput {
    Input overload;
    std::array<AcPhaseInput, 3> phase;
  };
  std::vector<AcInput> ac = std::vector<AcInput>(2);

  Site() {
    monitor_v = 52.0;
    battery_temp_c = 20;
    pv_w = 0;
    load_w = 500;
    zone_c[0] = 20;
    zone_c[1] = 20;
  }

  // No timing limits at all: for tests about conditions, not about timers.
  Site& instant() {
    for (auto& m : p.miners) m.timing = {};
    p.site.hvac_timing = {};
    p.site.stagger = 0s;
    return *this;
  }

  int minute() const { return static_cast<int>((start_minute + elapsed.count() / 60) % 1440); }

  rules::Snapshot snapshot() {
    for (Input* in : {&monitor_v, &gx_v, &solark_v, &battery_a, &battery_temp_c, &pv_w, &load_w, &chargers_limiting,
                      &generator_running}) {
      if (in->value && !in->frozen) in->as_of = now;
    }
    for (auto* group : {&zone_c, &miner_w, &miner_temp_c}) {
      for (auto& z : *group) {
        if (z.value && !z.frozen) z.as_of = now;
      }
    }
    rules::Snapshot s;
    s.now = now;
    if (clock_trusted) s.local_minute_of_day = minute();
    // Three voltage sources in rank order, as a site with a shunt, a GX and an inverter has.
    s.battery_v = {{"monitor", "the monitor", monitor_v.reading()},
                   {"gx", "the GX", gx_v.reading()},
                   {"inverter", "the inverter", solark_v.reading()}};
    s.battery_a = battery_a.reading();
    s.battery_temp_c = {{"monitor", "the monitor's sensor", battery_temp_c.reading()}};
    s.pv_w = pv_w.reading();
    s.load_w = load_w.reading();
    s.chargers_limiting = chargers_limiting.reading();
    s.generator_running = generator_running.reading();
    s.pv_w_partial = pv_partial;
    s.load_w_partial = load_partial;
    for (const auto& z : zone_c) s.zone_temp_c.push_back(z.reading());
    for (const auto& w : miner_w) s.miner_w.push_back(w.reading());
    for (const auto& t : miner_temp_c) s.miner_temp_c.push_back(t.reading());
    s.miner_temp_limit_c = miner_temp_limit_c;
    s.controller_overheat = controller_overheat;
    s.miner_powered = miner_powered;
    s.miner_target_ignored = miner_target_ignored;
    for (auto& a : ac) {
      rules::AcSourceReadings r;
      for (Input* in : {&a.overload, &a.phase[0].load_w, &a.phase[0].overload, &a.phase[1].load_w, &a.phase[1].overload,
                        &a.phase[2].load_w, &a.phase[2].overload}) {
        if (in->value && !in->frozen) in->as_of = now;
      }
      r.overload = a.overload.reading();
      for (std::size_t k = 0; k < 3; ++k) {
        r.phase[k].load_w = a.phase[k].load_w.reading();
        r.phase[k].overload = a.phase[k].overload.reading();
      }
      s.ac.push_back(r);
    }
    return s;
  }

  // Advance time by dt, then decide.
  const rules::Decision& step(std::chrono::seconds dt = 0s) {
    now += dt;
    elapsed += dt;
    const auto errors = rules::validate(p);
    REQUIRE_MESSAGE(errors.empty(), (errors.empty() ? std::string() : errors.front()));
    rules::decide(snapshot(), p, state, d);
    state = d.next;
    return d;
  }

  // Step every `dt` for `total`; returns the last decision.
  const rules::Decision& run(std::chrono::seconds total, std::chrono::seconds dt = 10s) {
    for (auto t = 0s; t < total; t += dt) step(dt);
    return d;
  }

  const rules::LoadDecision& primary() const { return d.miners.at(0); }
  const rules::LoadDecision& dump() const { return d.miners.at(1); }
  const rules::ZoneDecision& heat_room() const { return d.zones.at(0); }
  const rules::ZoneDecision& main_room() const { return d.zones.at(1); }
};

inline bool has_alarm(const rules::Decision& d, rules::ReasonCode code) {
  for (const auto& a : d.alarms) {
    if (a.code == code) return true;
  }
  return false;
}

}  // namespace test

namespace doctest {
template <>
struct StringMaker<rules::ReasonCode> {
  static String convert(rules::ReasonCode c) { return String(std::string(rules::code_name(c)).c_str()); }
};
}  // namespace doctest
