// HVAC zones and cold-charge protection.
#include "harness.hpp"

using namespace std::chrono_literals;
using rules::HeatSource;
using rules::ReasonCode;

TEST_CASE("exhaust fan: on at too_hot, off at hot_ok, held in between") {
  test::Site s;
  s.instant();
  const std::pair<double, bool> steps[] = {{34, false}, {39.9, false}, {40, true}, {37, true}, {35.1, true},
                                           {35, false}, {38, false},   {41, true}};
  for (const auto& step : steps) {  // no structured binding: clang 14 cannot capture one in CAPTURE
    const double temp = step.first;
    const bool on = step.second;
    CAPTURE(temp);
    s.zone_c[0] = temp;
    s.step(10s);
    CHECK(s.heat_room().fan.on == on);
  }
  CHECK(s.heat_room().fan.reason.code == ReasonCode::too_hot);
}

TEST_CASE("fan speed scales from hot_ok to too_hot") {
  test::Site s;
  s.instant();
  s.zone_c[0] = 41;
  s.step();
  CHECK(s.heat_room().fan.fan_speed == 10);
  s.zone_c[0] = 37.5;
  s.step(10s);
  CHECK(s.heat_room().fan.fan_speed == 5);
  s.zone_c[0] = 35.2;
  s.step(10s);
  CHECK(s.heat_room().fan.fan_speed == 1);
  s.zone_c[0] = 30;
  s.step(10s);
  CHECK(s.heat_room().fan.fan_speed == 0);
}

TEST_CASE("a fan whose temperature goes stale follows its policy (on by default)") {
  test::Site s;
  s.instant();
  s.zone_c[0] = 20;
  s.step();
  REQUIRE_FALSE(s.heat_room().fan.on);
  s.zone_c[0].freeze();
  s.step(601s);
  CHECK(s.heat_room().fan.on);
  CHECK(s.heat_room().fan.reason.code == ReasonCode::stale_on);
  CHECK(s.heat_room().fan.fan_speed == 10);
  SUBCASE("policy off") {
    s.p.zones[0].fan_stale_policy = rules::StalePolicy::off;
    s.step(10s);
    CHECK_FALSE(s.heat_room().fan.on);
    CHECK(s.heat_room().fan.reason.code == ReasonCode::stale_input);
  }
}

TEST_CASE("the Heat Room at -1 °C with 5 kW PV heats with the miner first") {
  test::Site s;
  s.instant();
  s.p.miners[0].allow_outside_schedule = false;  // at noon only a heat call can start it
  s.start_minute = 12 * 60;
  s.monitor_v = 51.0;
  s.pv_w = 5000;
  s.load_w = 600;
  s.zone_c[0] = -1;
  s.step();
  CHECK(s.heat_room().heat_demand);
  CHECK(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::heating);
  CHECK_FALSE(s.heat_room().heater.on);
  CHECK(s.heat_room().heater.reason.code == ReasonCode::heat_by_miner);

  SUBCASE("heat demand holds until cold_ok, then the miner is back on its own rules") {
    s.zone_c[0] = 4.9;
    s.step(10s);
    CHECK(s.primary().on);
    s.zone_c[0] = 5.0;
    s.step(10s);
    CHECK_FALSE(s.heat_room().heat_demand);
    CHECK_FALSE(s.primary().on);
    CHECK(s.primary().reason.code == ReasonCode::outside_schedule);
  }
  SUBCASE("a miner used for heat still obeys its voltage protection") {
    s.monitor_v = 46.9;
    s.step(10s);
    CHECK_FALSE(s.primary().on);
    CHECK(s.primary().reason.code == ReasonCode::below_stop_voltage);
    // With the miner unable to heat, the heater (priority 2) takes over: 46.9 V < low 47.0 V
    // holds it off too.
    CHECK_FALSE(s.heat_room().heater.on);
    CHECK(s.heat_room().heater.reason.code == ReasonCode::below_start_voltage);
  }
}

TEST_CASE("with the miner blocked by voltage, the heater heats if there is solar") {
  test::Site s;
  s.instant();
  s.monitor_v = 49.0;  // below the primary's start (49.5 aggressive)
  s.pv_w = 5000;
  s.zone_c[0] = -1;
  s.step();
  CHECK_FALSE(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::below_start_voltage);
  CHECK(s.heat_room().heater.on);
  CHECK(s.heat_room().heater.reason.code == ReasonCode::heating);

  s.pv_w = 3900;  // below minimum_solar_for_heating (4,000 W)
  s.step(10s);
  CHECK_FALSE(s.heat_room().heater.on);
  CHECK(s.heat_room().heater.reason.code == ReasonCode::insufficient_solar);
}

TEST_CASE("a miner only waiting on its timers keeps the heater off") {
  test::Site s;
  s.p.miners[0].allow_outside_schedule = false;
  s.p.site.hvac_timing = {};
  s.monitor_v = 51.0;
  s.pv_w = 5000;
  s.zone_c[0] = -1;
  s.step();
  CHECK(s.primary().reason.code == ReasonCode::start_delay_pending);
  CHECK_FALSE(s.heat_room().heater.on);
  CHECK(s.heat_room().heater.reason.code == ReasonCode::heat_by_miner);
}

TEST_CASE("heater first, miner second: the miner heats only when the heater cannot") {
  test::Site s;
  s.instant();
  s.p.zones[0].heating_priority = {HeatSource::heater, HeatSource::miner};
  s.p.miners[0].allow_outside_schedule = false;
  s.start_minute = 12 * 60;
  s.monitor_v = 51.0;
  s.pv_w = 5000;
  s.zone_c[0] = -1;
  s.step();
  CHECK(s.heat_room().heater.on);
  CHECK_FALSE(s.primary().on);
  s.pv_w = 1000;  // not enough solar for the heater
  s.step(10s);
  CHECK_FALSE(s.heat_room().heater.on);
  CHECK(s.primary().on);
  CHECK(s.primary().reason.code == ReasonCode::heating);
}

TEST_CASE("the Main Room heats with its heater only, and only on solar") {
  test::Site s;
  s.instant();
  s.monitor_v = 52.0;
  s.zone_c[1] = -5;  // too_cold -5
  s.pv_w = 1999;
  s.step();
  CHECK(s.main_room().heat_demand);
  CHECK_FALSE(s.main_room().heater.on);
  CHECK(s.main_room().heater.reason.code == ReasonCode::insufficient_solar);
  s.pv_w = 2000;
  s.step(10s);
  CHECK(s.main_room().heater.on);
  s.zone_c[1] = 0;  // cold_ok
  s.step(10s);
  CHECK_FALSE(s.main_room().heater.on);
  CHECK(s.main_room().heater.reason.code == ReasonCode::idle);
}

TEST_CASE("a heater whose temperature goes stale is off (policy off by default)") {
  test::Site s;
  s.instant();
  s.pv_w = 3000;
  s.zone_c[1] = -8;
  s.step();
  REQUIRE(s.main_room().heater.on);
  s.zone_c[1].freeze();
  s.step(601s);
  CHECK_FALSE(s.main_room().heater.on);
  CHECK(s.main_room().heater.reason.code == ReasonCode::stale_input);
}

TEST_CASE("a cold battery blocks charging, with hysteresis on release") {
  test::Site s;
  s.instant();
  s.battery_temp_c = 5;
  s.step();
  CHECK_FALSE(s.d.block_charging);
  CHECK(s.d.charge_reason.code == ReasonCode::charge_ok);

  s.battery_temp_c = -0.5;
  s.step(10s);
  CHECK(s.d.block_charging);
  CHECK(s.d.charge_reason.code == ReasonCode::battery_too_cold);
  CHECK(s.d.charge_reason.value == doctest::Approx(-0.5));

  s.battery_temp_c = 1.0;  // above 0 °C, below 0 + 2 °C hysteresis
  s.step(10s);
  CHECK(s.d.block_charging);
  s.battery_temp_c = 2.0;
  s.step(10s);
  CHECK_FALSE(s.d.block_charging);
}

TEST_CASE("while charging is blocked, the battery zone's exhaust fan is kept off") {
  test::Site s;
  s.instant();
  s.battery_temp_c = -2;  // a cold battery in a room a miner has made hot
  s.zone_c[0] = 42;
  s.zone_c[1] = 36;
  s.step();
  CHECK_FALSE(s.heat_room().fan.on);
  CHECK(s.heat_room().fan.reason.code == ReasonCode::cold_charge_block);
  CHECK(s.main_room().fan.on);  // the Main Room holds no battery
}

TEST_CASE("battery temperature: the battery zone's air is the fallback; unknown blocks charging") {
  test::Site s;
  s.instant();
  s.battery_temp_c.missing();
  s.zone_c[0] = -3;
  s.step();
  CHECK(s.d.block_charging);
  CHECK(s.d.charge_reason.value == doctest::Approx(-3));
  s.zone_c[0] = 10;
  s.step(10s);
  CHECK_FALSE(s.d.block_charging);
  s.zone_c[0].freeze();
  s.step(601s);
  CHECK(s.d.block_charging);
  CHECK(s.d.charge_reason.code == ReasonCode::battery_temp_unknown);
  SUBCASE("no threshold configured: never blocks") {
    s.p.zones[0].block_charging_below_c.reset();
    s.step(10s);
    CHECK_FALSE(s.d.block_charging);
  }
}

TEST_CASE("a disabled zone holds its fan and heater off and calls no miner for heat; its cold-charge limit stays") {
  test::Site s;
  s.instant();
  s.zone_c[0] = 45;  // hot: the fan would run
  s.step(10s);
  REQUIRE(s.heat_room().fan.on);
  s.p.zones[0].enabled = false;
  s.zone_c[0] = -5;  // freezing: heat by miner, then heater, would be called
  s.battery_temp_c = -3;
  s.step(10s);
  CHECK_FALSE(s.heat_room().fan.on);
  CHECK(s.heat_room().fan.reason.code == ReasonCode::disabled);
  CHECK_FALSE(s.heat_room().heater.on);
  CHECK(s.heat_room().heater.reason.code == ReasonCode::disabled);
  CHECK(s.primary().reason.code != ReasonCode::heating);
  // The Heat Room holds the battery in the defaults: charging stays blocked at -5 °C.
  CHECK(s.d.block_charging);
}

TEST_CASE("a miner waiting to start for a heat call reads its limit in volts, not °C") {
  test::Site s;
  s.instant();
  s.p.miners[0].timing.start_delay = 60s;  // a dwell, so the waiting reason shows
  s.p.miners[0].allow_outside_schedule = false;
  s.start_minute = 12 * 60;
  s.monitor_v = 51.4;
  s.pv_w = 5000;
  s.load_w = 600;
  s.zone_c[0] = -1;
  s.step();
  REQUIRE(s.primary().reason.code == ReasonCode::start_delay_pending);
  CHECK(rules::describe(s.primary().reason) == "start condition holds, waiting: 51.40 V (limit 50.00 V), 60 s left");
}

TEST_CASE("a heater stopped by a warm zone names cold_ok as its limit, not too_cold") {
  test::Site s;
  s.instant();
  s.p.zones[1].heating_priority = {HeatSource::heater, HeatSource::none};  // Main Room: -5 / 0 °C
  s.monitor_v = 52.0;
  s.pv_w = 5000;
  s.load_w = 600;
  s.zone_c[1] = -6;
  s.step(10s);
  REQUIRE(s.main_room().heater.on);
  s.zone_c[1] = 1.3;
  s.step(10s);
  CHECK_FALSE(s.main_room().heater.on);
  CHECK(rules::describe(s.main_room().heater.reason) == "not needed: 1.3 °C (limit 0.0 °C)");
}
