-- The Solar Shack's default data (../shared/reference/solar-shack-defaults.md). The timing
-- values are shackd's own; the source data has none.

INSERT INTO site_preferences (
  id, curve_v_0, curve_v_15, curve_v_40, curve_v_60, curve_v_80, curve_v_100,
  voltage_shutdown, voltage_critical_low, voltage_low, voltage_restart, voltage_optimal_min,
  voltage_optimal_max, voltage_float, voltage_absorption, voltage_full,
  timezone, latitude, longitude, operating_mode, display)
VALUES (
  1, 45.0, 47.0, 50.0, 51.5, 54.5, 56.0,
  44.0, 45.0, 47.0, 50.0, 50.0,
  54.5, 55.0, 57.6, 58.0,
  'America/Los_Angeles', 37.3382, -121.8863, 'balanced', 'soc');

INSERT INTO miner_profiles (
  name, model, hashrate_th, power_w, enabled, priority,
  start_voltage, stop_voltage, emergency_stop_voltage,
  require_excess_solar, minimum_excess_w, minimum_solar_w, require_sunny,
  schedule, allow_outside_schedule, operating_mode, relay_id,
  min_on_s, min_off_s, start_delay_s, stop_delay_s, max_starts_per_hour, stale_policy)
VALUES
  ('Primary S21+', 'Antminer S21+ 235 TH', 235, 3878, 1, 1,
   50.0, 47.0, 45.0,
   0, 0, 0, 0,
   '18:00-10:00', 1, 'aggressive', 'primary_s21',
   600, 300, 60, 120, 4, 'off'),
  ('Dump Load S19 #1', 'Antminer S19 95 TH', 95, 3250, 1, 3,
   54.5, 53.0, 50.0,
   1, 3500, 8000, 1,
   '10:00-16:00', 0, 'opportunistic', 'dump_s19_1',
   300, 300, 120, 180, 4, 'off');

INSERT INTO hvac_zones (
  name, zone_type, sensor_id, too_hot_c, hot_ok_c, too_cold_c, cold_ok_c,
  exhaust_fan_relay, fan_speed_control, fan_max_speed,
  heating_priority_1, heating_priority_2, heat_miner, heater_relay,
  minimum_solar_for_heating_w, block_charging_below_c)
VALUES
  ('Heat Room', 'equipment', 'heat_room_temp', 40, 35, 0, 5,
   'heat_room_fan', 'auto', 10,
   'miner', 'heater', 'Primary S21+', 'heat_room_heater',
   4000, 0),
  ('Main Room', 'equipment', 'main_room_temp', 35, 30, -5, 0,
   'main_room_fan', 'auto', 8,
   'heater', 'none', NULL, 'main_room_heater',
   2000, NULL);
