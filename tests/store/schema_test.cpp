// The schema: the Solar Shack seed, field by field, and every CHECK constraint.
#include "tests/store/fixture.hpp"

#include "daemon/store/profile_store.hpp"
#include "rules/profile.hpp"

using namespace std::chrono_literals;

TEST_CASE("the seed is the Solar Shack, field by field") {
  test::MigratedDb m;
  const shackd::StoredProfiles p = shackd::load_profiles(m.db);
  const rules::Profiles want = rules::solar_shack_defaults();

  // Battery curve: (45.0, 0) (47.0, 15) (50.0, 40) (51.5, 60) (54.5, 80) (56.0, 100).
  for (std::size_t i = 0; i < 6; ++i) {
    CAPTURE(i);
    CHECK(p.rules.site.curve[i].v == want.site.curve[i].v);
    CHECK(p.rules.site.curve[i].soc_pct == want.site.curve[i].soc_pct);
  }
  const auto& t = p.rules.site.thresholds;
  CHECK(t.shutdown_v == 44.0);
  CHECK(t.critical_low_v == 45.0);
  CHECK(t.low_v == 47.0);
  CHECK(t.restart_v == 50.0);
  CHECK(t.optimal_min_v == 50.0);
  CHECK(t.optimal_max_v == 54.5);
  CHECK(t.float_v == 55.0);
  CHECK(t.absorption_v == 57.6);
  CHECK(t.full_v == 58.0);
  CHECK(p.site.timezone == "America/Los_Angeles");
  CHECK(*p.site.latitude == 37.3382);
  CHECK(*p.site.longitude == -121.8863);
  CHECK(p.rules.site.mode == rules::OperatingMode::balanced);
  CHECK(p.site.display == "soc");

  REQUIRE(p.rules.miners.size() == 2);
  const auto& primary = p.rules.miners[0];
  CHECK(primary.name == "Primary S21+");
  CHECK(p.miners[0].model == "Antminer S21+ 235 TH");
  CHECK(*p.miners[0].hashrate_th == 235);
  CHECK(primary.power_w == 3878);
  CHECK(primary.priority == 1);
  CHECK(primary.start_v == 50.0);
  CHECK(primary.stop_v == 47.0);
  CHECK(primary.emergency_stop_v == 45.0);
  CHECK_FALSE(primary.require_excess_solar);
  CHECK_FALSE(primary.require_sunny);
  REQUIRE(primary.schedule.size() == 1);
  CHECK(primary.schedule[0].start_min == 18 * 60);
  CHECK(primary.schedule[0].end_min == 10 * 60);
  CHECK(primary.allow_outside_schedule);
  CHECK(primary.mode == rules::OperatingMode::aggressive);

  const auto& dump = p.rules.miners[1];
  CHECK(dump.name == "Dump Load S19 #1");
  CHECK(p.miners[1].model == "Antminer S19 95 TH");
  CHECK(*p.miners[1].hashrate_th == 95);
  CHECK(dump.power_w == 3250);
  CHECK(dump.priority == 3);
  CHECK(dump.start_v == 54.5);
  CHECK(dump.stop_v == 53.0);
  CHECK(dump.emergency_stop_v == 50.0);
  CHECK(dump.require_excess_solar);
  CHECK(dump.minimum_excess_w == 3500);
  CHECK(dump.minimum_solar_w == 8000);
  CHECK(dump.require_sunny);
  REQUIRE(dump.schedule.size() == 1);
  CHECK(dump.schedule[0].start_min == 10 * 60);
  CHECK(dump.schedule[0].end_min == 16 * 60);
  CHECK_FALSE(dump.allow_outside_schedule);
  CHECK(dump.mode == rules::OperatingMode::opportunistic);

  // Timing and policies match the rules' built-in defaults, which the tests of the rules use.
  for (std::size_t i = 0; i < 2; ++i) {
    CAPTURE(i);
    CHECK(p.rules.miners[i].timing.min_on == want.miners[i].timing.min_on);
    CHECK(p.rules.miners[i].timing.min_off == want.miners[i].timing.min_off);
    CHECK(p.rules.miners[i].timing.start_delay == want.miners[i].timing.start_delay);
    CHECK(p.rules.miners[i].timing.stop_delay == want.miners[i].timing.stop_delay);
    CHECK(p.rules.miners[i].timing.max_starts_per_hour == want.miners[i].timing.max_starts_per_hour);
    CHECK(p.rules.miners[i].stale_policy == want.miners[i].stale_policy);
  }

  REQUIRE(p.rules.zones.size() == 2);
  const auto& heat = p.rules.zones[0];
  CHECK(heat.name == "Heat Room");
  CHECK(p.zones[0].zone_type == "equipment");
  CHECK(heat.too_hot_c == 40);
  CHECK(heat.hot_ok_c == 35);
  CHECK(heat.too_cold_c == 0);
  CHECK(heat.cold_ok_c == 5);
  CHECK(heat.has_fan);
  CHECK(*p.zones[0].exhaust_fan_relay == "heat_room_fan");
  CHECK(heat.fan_speed_control);
  CHECK(heat.fan_max_speed == 10);
  CHECK(heat.heating_priority[0] == rules::HeatSource::miner);
  CHECK(heat.heating_priority[1] == rules::HeatSource::heater);
  CHECK(heat.heat_miner == std::optional<std::size_t>(0));
  CHECK(heat.minimum_solar_for_heating_w == 4000);
  CHECK(heat.block_charging_below_c == std::optional<double>(0.0));

  const auto& main = p.rules.zones[1];
  CHECK(main.name == "Main Room");
  CHECK(main.too_hot_c == 35);
  CHECK(main.hot_ok_c == 30);
  CHECK(main.too_cold_c == -5);
  CHECK(main.cold_ok_c == 0);
  CHECK(main.fan_max_speed == 8);
  CHECK(main.heating_priority[0] == rules::HeatSource::heater);
  CHECK(main.heating_priority[1] == rules::HeatSource::none);
  CHECK_FALSE(main.heat_miner);
  CHECK(main.minimum_solar_for_heating_w == 2000);
  CHECK_FALSE(main.block_charging_below_c);

  // And the whole set is what the rules' own defaults say, tunables included.
  CHECK(p.rules.site.electrical_stale_after == want.site.electrical_stale_after);
  CHECK(p.rules.site.stagger == want.site.stagger);
  CHECK(p.rules.site.sunny_window == want.site.sunny_window);
  CHECK(p.rules.site.hvac_timing.min_on == want.site.hvac_timing.min_on);
}

TEST_CASE("each CHECK constraint rejects a violating row") {
  test::MigratedDb m;
  struct Bad {
    const char* what;
    const char* sql;
  };
  const Bad cases[] = {
      {"curve not increasing", "UPDATE site_preferences SET curve_v_40 = 46.0"},
      {"shutdown not below critical_low", "UPDATE site_preferences SET voltage_shutdown = 45.0"},
      {"critical_low above low", "UPDATE site_preferences SET voltage_critical_low = 47.5"},
      {"low not below restart", "UPDATE site_preferences SET voltage_low = 50.0"},
      {"restart above optimal_min", "UPDATE site_preferences SET voltage_restart = 50.5"},
      {"optimal band empty", "UPDATE site_preferences SET voltage_optimal_max = 50.0"},
      {"optimal_max above float", "UPDATE site_preferences SET voltage_optimal_max = 55.5"},
      {"float not below absorption", "UPDATE site_preferences SET voltage_float = 57.6"},
      {"absorption above full", "UPDATE site_preferences SET voltage_absorption = 58.5"},
      {"a second site row", "INSERT INTO site_preferences (id) SELECT 2"},
      {"latitude", "UPDATE site_preferences SET latitude = 91"},
      {"site operating_mode", "UPDATE site_preferences SET operating_mode = 'yolo'"},
      {"display", "UPDATE site_preferences SET display = 'percent'"},
      {"disagreement tolerance", "UPDATE site_preferences SET source_disagreement_v = 0"},
      {"internal resistance", "UPDATE site_preferences SET internal_resistance_ohm = 2"},
      {"plausible range", "UPDATE site_preferences SET plausible_min_v = 80"},
      {"negative stagger", "UPDATE site_preferences SET stagger_s = -1"},
      {"emergency not below stop", "UPDATE miner_profiles SET emergency_stop_voltage = 47.0 WHERE priority = 1"},
      {"stop not below start", "UPDATE miner_profiles SET stop_voltage = 55.0 WHERE priority = 3"},
      {"priority 0", "UPDATE miner_profiles SET priority = 0 WHERE priority = 1"},
      {"priority 11", "UPDATE miner_profiles SET priority = 11 WHERE priority = 1"},
      {"negative power", "UPDATE miner_profiles SET power_w = -1 WHERE priority = 1"},
      {"excess solar without a minimum", "UPDATE miner_profiles SET minimum_excess_w = 0 WHERE priority = 3"},
      {"sunny without a solar minimum", "UPDATE miner_profiles SET minimum_solar_w = 0 WHERE priority = 3"},
      {"enabled not a flag", "UPDATE miner_profiles SET enabled = 2 WHERE priority = 1"},
      {"schedule garbage", "UPDATE miner_profiles SET schedule = 'nights' WHERE priority = 1"},
      {"miner operating_mode", "UPDATE miner_profiles SET operating_mode = 'fast' WHERE priority = 1"},
      {"negative min_on", "UPDATE miner_profiles SET min_on_s = -5 WHERE priority = 1"},
      {"max starts 61", "UPDATE miner_profiles SET max_starts_per_hour = 61 WHERE priority = 1"},
      {"stale policy", "UPDATE miner_profiles SET stale_policy = 'maybe' WHERE priority = 1"},
      {"duplicate miner name", "UPDATE miner_profiles SET name = 'Primary S21+' WHERE priority = 3"},
      {"empty miner name", "UPDATE miner_profiles SET name = '' WHERE priority = 3"},
      {"STRICT: text in a REAL column", "UPDATE miner_profiles SET power_w = 'lots' WHERE priority = 1"},
      {"heating hysteresis", "UPDATE hvac_zones SET cold_ok_c = -1 WHERE name = 'Heat Room'"},
      {"cooling hysteresis", "UPDATE hvac_zones SET hot_ok_c = 41 WHERE name = 'Heat Room'"},
      {"heating overlaps cooling", "UPDATE hvac_zones SET cold_ok_c = 36 WHERE name = 'Heat Room'"},
      {"zone type", "UPDATE hvac_zones SET zone_type = 'garage' WHERE name = 'Heat Room'"},
      {"fan speed 0", "UPDATE hvac_zones SET fan_max_speed = 0 WHERE name = 'Heat Room'"},
      {"fan speed control", "UPDATE hvac_zones SET fan_speed_control = 'turbo' WHERE name = 'Heat Room'"},
      {"heating source", "UPDATE hvac_zones SET heating_priority_1 = 'sun' WHERE name = 'Heat Room'"},
      {"same source twice", "UPDATE hvac_zones SET heating_priority_2 = 'miner' WHERE name = 'Heat Room'"},
      {"priority 2 without 1",
       "UPDATE hvac_zones SET heating_priority_1 = 'none', heating_priority_2 = 'heater' WHERE name = 'Main Room'"},
      {"miner heat without a miner", "UPDATE hvac_zones SET heat_miner = NULL WHERE name = 'Heat Room'"},
      {"heater without a relay", "UPDATE hvac_zones SET heater_relay = NULL WHERE name = 'Main Room'"},
      {"heat_miner names no miner", "UPDATE hvac_zones SET heat_miner = 'Nobody' WHERE name = 'Heat Room'"},
      {"negative heating solar", "UPDATE hvac_zones SET minimum_solar_for_heating_w = -1 WHERE name = 'Main Room'"},
      {"load state flag", "INSERT INTO load_state (load_id, commanded_on) VALUES ('miner:x', 2)"},
      {"override mode", "INSERT INTO load_state (load_id, override_mode) VALUES ('miner:x', 'maybe')"},
      {"event kind", "INSERT INTO events (at, kind, reason_code, reason) VALUES ('2026-01-01T00:00:00Z', 'gossip', 1, 'x')"},
      {"telemetry samples", "INSERT INTO telemetry (minute, samples) VALUES ('2026-01-01T00:00:00Z', 0)"},
      {"config sha", "INSERT INTO config_history (sha256, outcome) VALUES ('abc', 'applied')"},
      {"config outcome", "INSERT INTO config_history (sha256, outcome) VALUES (printf('%064d', 0), 'maybe')"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.what));
    try {
      m.db.exec(c.sql);
      FAIL("accepted: " << c.sql);
    } catch (const shackd::db::Error& e) {
      CHECK((e.code() & 0xff) == SQLITE_CONSTRAINT);
    }
  }
  // The constraints refused every one: the profiles still load and are the defaults.
  CHECK(shackd::load_profiles(m.db).rules.miners[1].stop_v == 53.0);
}

TEST_CASE("updated_at follows a change; an index serves priority order") {
  test::MigratedDb m;
  m.db.exec("UPDATE miner_profiles SET updated_at = '2000-01-01T00:00:00.000Z'");
  m.db.exec("UPDATE miner_profiles SET power_w = 3900 WHERE priority = 1");
  auto s = m.db.prepare("SELECT priority, updated_at FROM miner_profiles ORDER BY priority");
  REQUIRE(s.step());
  CHECK(s.text(1) != "2000-01-01T00:00:00.000Z");
  REQUIRE(s.step());
  CHECK(s.text(1) == "2000-01-01T00:00:00.000Z");  // untouched row keeps its time
  auto plan = m.db.prepare("EXPLAIN QUERY PLAN SELECT * FROM miner_profiles ORDER BY priority, id");
  REQUIRE(plan.step());
  CHECK(plan.text(3).find("miner_profiles_priority") != std::string::npos);
}
