// Every bad-profile case is refused, with a message that names the field, the value and the rule.
#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "rules/validate.hpp"

namespace {

struct BadCase {
  const char* name;
  std::function<void(rules::Profiles&)> spoil;
  const char* expected;  // a substring of the one message expected
};

bool mentions(const std::vector<std::string>& errors, const std::string& text) {
  for (const auto& e : errors) {
    if (e.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("the Solar Shack defaults are valid") {
  const auto errors = rules::validate(rules::solar_shack_defaults());
  CHECK_MESSAGE(errors.empty(), (errors.empty() ? "" : errors.front()));
}

TEST_CASE("each bad profile is refused with its message") {
  using namespace std::chrono_literals;
  const BadCase cases[] = {
      {"curve not increasing", [](auto& p) { p.site.curve[2].v = 46.0; },
       "site: battery curve[2]: (46.00 V, 40.0 %) must be above curve[1] (47.00 V, 15.0 %)"},
      {"shutdown not below critical", [](auto& p) { p.site.thresholds.shutdown_v = 45.0; },
       "site: voltage_shutdown 45.0 must be below voltage_critical_low 45.0 (rule: voltage_shutdown < voltage_critical_low"},
      {"critical above low", [](auto& p) { p.site.thresholds.critical_low_v = 47.5; },
       "voltage_critical_low 47.5 must not be above voltage_low 47.0"},
      {"low not below restart", [](auto& p) { p.site.thresholds.low_v = 50.0; },
       "voltage_low 50.0 must be below voltage_restart 50.0"},
      {"restart above optimal_min", [](auto& p) { p.site.thresholds.restart_v = 50.5; },
       "voltage_restart 50.5 must not be above voltage_optimal_min 50.0"},
      {"optimal band empty", [](auto& p) { p.site.thresholds.optimal_max_v = 50.0; },
       "voltage_optimal_min 50.0 must be below voltage_optimal_max 50.0"},
      {"optimal_max above float", [](auto& p) { p.site.thresholds.optimal_max_v = 55.5; },
       "voltage_optimal_max 55.5 must not be above voltage_float 55.0"},
      {"float not below absorption", [](auto& p) { p.site.thresholds.float_v = 57.6; },
       "voltage_float 57.6 must be below voltage_absorption 57.6"},
      {"absorption above full", [](auto& p) { p.site.thresholds.absorption_v = 58.5; },
       "voltage_absorption 58.5 must not be above voltage_full 58.0"},
      {"plausible range inverted", [](auto& p) { p.site.plausible_min_v = 80; },
       "plausible_min_v 80.0 must be below plausible_max_v 70.0"},
      {"no disagreement tolerance", [](auto& p) { p.site.source_disagreement_v = 0; },
       "site: source_disagreement_v 0.0 must be above 0"},
      {"internal resistance absurd", [](auto& p) { p.site.internal_resistance_ohm = 2; },
       "internal_resistance_ohm 2.0 must be between 0 and 1"},
      {"zero stale limit", [](auto& p) { p.site.electrical_stale_after = 0s; },
       "electrical_stale_after_s 0.0 must be above 0"},
      {"negative stagger", [](auto& p) { p.site.stagger = -1s; }, "site: stagger_s -1.0 must not be negative"},
      {"emergency not below stop", [](auto& p) { p.miners[0].emergency_stop_v = 47.0; },
       "miner 'Primary S21+': emergency_stop_voltage 47.0 must be below stop_voltage 47.0 (rule: emergency_stop_voltage < stop_voltage < start_voltage)"},
      {"stop not below start", [](auto& p) { p.miners[1].stop_v = 55.0; },
       "miner 'Dump Load S19 #1': stop_voltage 55.0 must be below start_voltage 54.5"},
      {"start above full", [](auto& p) { p.miners[0].start_v = 59.0; },
       "start_voltage 59.0 must not be above the site's voltage_full 58.0"},
      {"priority 0", [](auto& p) { p.miners[0].priority = 0; }, "priority 0 must be between 1 and 10"},
      {"priority 11", [](auto& p) { p.miners[1].priority = 11; }, "priority 11 must be between 1 and 10"},
      {"negative power", [](auto& p) { p.miners[0].power_w = -5; }, "power_w -5.0 must be at least 0.0"},
      {"excess solar without a minimum", [](auto& p) { p.miners[1].minimum_excess_w = 0; },
       "require_excess_solar needs minimum_excess_w above 0"},
      {"sunny without a solar minimum", [](auto& p) { p.miners[1].minimum_solar_w = 0; },
       "require_sunny needs minimum_solar_w above 0"},
      {"schedule out of range", [](auto& p) { p.miners[0].schedule = {{1500, 600}}; },
       "miner 'Primary S21+': schedule window 1 must lie within 00:00-23:59"},
      {"schedule empty window", [](auto& p) { p.miners[0].schedule = {{600, 600}}; },
       "schedule window 1 starts where it ends; for \"any time\" leave the schedule empty"},
      {"negative min_on", [](auto& p) { p.miners[0].timing.min_on = -1s; }, "min_on_s -1.0 must not be negative"},
      {"too many starts", [](auto& p) { p.miners[0].timing.max_starts_per_hour = 61; },
       "max_starts_per_hour 61 must be 0 (no limit) to 60"},
      {"duplicate miner names", [](auto& p) { p.miners[1].name = p.miners[0].name; },
       "miner 'Primary S21+': name is used twice"},
      {"empty miner name", [](auto& p) { p.miners[0].name.clear(); }, "name must not be empty"},
      {"too many miners", [](auto& p) {
         for (int i = 0; i < 33; ++i) {
           auto m = p.miners[0];
           m.name = "m" + std::to_string(i);
           p.miners.push_back(m);
         }
       }, "miners: 35 profiles, at most 32 are supported"},
      {"heating hysteresis inverted", [](auto& p) { p.zones[0].cold_ok_c = -1; },
       "zone 'Heat Room': too_cold_c 0.0 must be below cold_ok_c -1.0 (rule: too_cold_c < cold_ok_c)"},
      {"cooling hysteresis inverted", [](auto& p) { p.zones[1].hot_ok_c = 36; },
       "zone 'Main Room': hot_ok_c 36.0 must be below too_hot_c 35.0 (rule: hot_ok_c < too_hot_c)"},
      {"heating overlaps cooling", [](auto& p) { p.zones[0].cold_ok_c = 36; p.zones[0].too_hot_c = 45; p.zones[0].hot_ok_c = 35; },
       "cold_ok_c 36.0 must be below hot_ok_c 35.0 (rule: heating must stop before cooling starts)"},
      {"fan speed out of range", [](auto& p) { p.zones[0].fan_max_speed = 0; }, "fan_max_speed 0 must be between 1 and 100"},
      {"heat miner missing", [](auto& p) { p.zones[0].heat_miner.reset(); },
       "heating_priority names a miner, but heat_miner names no configured miner"},
      {"heat miner out of range", [](auto& p) { p.zones[0].heat_miner = 7; },
       "heat_miner names no configured miner"},
      {"heater without relay", [](auto& p) { p.zones[1].has_heater = false; },
       "heating_priority names a heater, but the zone has no heater_relay"},
      {"same source twice", [](auto& p) { p.zones[0].heating_priority = {rules::HeatSource::heater, rules::HeatSource::heater}; },
       "heating_priority names the same source twice"},
      {"priority 2 without 1", [](auto& p) { p.zones[1].heating_priority = {rules::HeatSource::none, rules::HeatSource::heater}; },
       "heating_priority 2 is set but priority 1 is none"},
      {"duplicate zone names", [](auto& p) { p.zones[1].name = "Heat Room"; }, "zone 'Heat Room': name is used twice"},
      {"negative heating solar", [](auto& p) { p.zones[1].minimum_solar_for_heating_w = -1; },
       "minimum_solar_for_heating_w -1.0 must be at least 0.0"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    rules::Profiles p = rules::solar_shack_defaults();
    c.spoil(p);
    const auto errors = rules::validate(p);
    REQUIRE_FALSE(errors.empty());
    CHECK_MESSAGE(mentions(errors, c.expected), "got: " << errors.front());
  }
}

TEST_CASE("every problem is listed, not just the first") {
  rules::Profiles p = rules::solar_shack_defaults();
  p.miners[0].priority = 0;
  p.miners[1].stop_v = 60;
  p.zones[0].cold_ok_c = -3;
  const auto errors = rules::validate(p);
  CHECK(errors.size() >= 3);
  CHECK(mentions(errors, "priority 0"));
  CHECK(mentions(errors, "stop_voltage 60.0"));
  CHECK(mentions(errors, "cold_ok_c -3.0"));
}
