-- Profiles: the site's calibration and thresholds, miner profiles and HVAC zones.
-- Column names are the YAML keys of the config's `profiles:` section. Times are UTC ISO-8601.

CREATE TABLE schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  sha256     TEXT NOT NULL CHECK (length(sha256) = 64),
  applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE TABLE site_preferences (
  id INTEGER PRIMARY KEY CHECK (id = 1),  -- exactly one row

  -- Battery calibration: volts at 0, 15, 40, 60, 80 and 100 % SOC. curve_v_0 and curve_v_100
  -- are the calibration ends (empty and full). SOC is shown, never decided on.
  curve_v_0   REAL NOT NULL,
  curve_v_15  REAL NOT NULL,
  curve_v_40  REAL NOT NULL,
  curve_v_60  REAL NOT NULL,
  curve_v_80  REAL NOT NULL,
  curve_v_100 REAL NOT NULL,

  -- The nine operating thresholds, volts.
  voltage_shutdown     REAL NOT NULL,
  voltage_critical_low REAL NOT NULL,
  voltage_low          REAL NOT NULL,
  voltage_restart      REAL NOT NULL,
  voltage_optimal_min  REAL NOT NULL,
  voltage_optimal_max  REAL NOT NULL,
  voltage_float        REAL NOT NULL,
  voltage_absorption   REAL NOT NULL,
  voltage_full         REAL NOT NULL,

  timezone       TEXT NOT NULL DEFAULT 'UTC' CHECK (length(timezone) > 0),
  latitude       REAL CHECK (latitude BETWEEN -90 AND 90),
  longitude      REAL CHECK (longitude BETWEEN -180 AND 180),
  operating_mode TEXT NOT NULL DEFAULT 'balanced'
                 CHECK (operating_mode IN ('aggressive', 'balanced', 'conservative', 'opportunistic')),
  display        TEXT NOT NULL DEFAULT 'soc' CHECK (display IN ('soc', 'voltage')),

  -- Decision tuning (README "How the rules decide").
  source_disagreement_v       REAL NOT NULL DEFAULT 1.0 CHECK (source_disagreement_v > 0),
  internal_resistance_ohm     REAL NOT NULL DEFAULT 0.0 CHECK (internal_resistance_ohm BETWEEN 0 AND 1),
  mode_margin_v               REAL NOT NULL DEFAULT 0.5 CHECK (mode_margin_v >= 0),
  plausible_min_v             REAL NOT NULL DEFAULT 30.0,
  plausible_max_v             REAL NOT NULL DEFAULT 70.0,
  electrical_stale_after_s    INTEGER NOT NULL DEFAULT 30 CHECK (electrical_stale_after_s > 0),
  temperature_stale_after_s   INTEGER NOT NULL DEFAULT 600 CHECK (temperature_stale_after_s > 0),
  stagger_s                   INTEGER NOT NULL DEFAULT 30 CHECK (stagger_s >= 0),
  stale_hold_max_s            INTEGER NOT NULL DEFAULT 300 CHECK (stale_hold_max_s >= 0),
  sunny_window_s              INTEGER NOT NULL DEFAULT 600 CHECK (sunny_window_s >= 0),
  block_charging_hysteresis_c REAL NOT NULL DEFAULT 2.0 CHECK (block_charging_hysteresis_c >= 0),
  hvac_min_on_s               INTEGER NOT NULL DEFAULT 60 CHECK (hvac_min_on_s >= 0),
  hvac_min_off_s              INTEGER NOT NULL DEFAULT 60 CHECK (hvac_min_off_s >= 0),

  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),

  -- Table constraints (SQLite wants them after the columns).
  CHECK (curve_v_0 < curve_v_15 AND curve_v_15 < curve_v_40 AND curve_v_40 < curve_v_60
         AND curve_v_60 < curve_v_80 AND curve_v_80 < curve_v_100),
  CHECK (voltage_shutdown < voltage_critical_low AND voltage_critical_low <= voltage_low
         AND voltage_low < voltage_restart AND voltage_restart <= voltage_optimal_min
         AND voltage_optimal_min < voltage_optimal_max AND voltage_optimal_max <= voltage_float
         AND voltage_float < voltage_absorption AND voltage_absorption <= voltage_full),
  CHECK (plausible_min_v < plausible_max_v)
) STRICT;

CREATE TABLE miner_profiles (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE CHECK (length(name) > 0),
  model       TEXT NOT NULL DEFAULT '',
  hashrate_th REAL CHECK (hashrate_th >= 0),
  power_w     REAL NOT NULL CHECK (power_w >= 0),
  enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  priority    INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 10),  -- 1 runs first

  start_voltage          REAL NOT NULL,
  stop_voltage           REAL NOT NULL,
  emergency_stop_voltage REAL NOT NULL,

  require_excess_solar INTEGER NOT NULL DEFAULT 0 CHECK (require_excess_solar IN (0, 1)),
  minimum_excess_w     REAL NOT NULL DEFAULT 0 CHECK (minimum_excess_w >= 0),
  minimum_solar_w      REAL NOT NULL DEFAULT 0 CHECK (minimum_solar_w >= 0),
  require_sunny        INTEGER NOT NULL DEFAULT 0 CHECK (require_sunny IN (0, 1)),

  -- Preferred windows in the site's timezone, "HH:MM-HH:MM" separated by commas; an end before
  -- the start wraps midnight. Empty: any time.
  schedule TEXT NOT NULL DEFAULT ''
           CHECK (schedule = '' OR schedule GLOB '[0-2][0-9]:[0-5][0-9]-[0-2][0-9]:[0-5][0-9]*'),
  allow_outside_schedule INTEGER NOT NULL DEFAULT 1 CHECK (allow_outside_schedule IN (0, 1)),

  operating_mode TEXT NOT NULL DEFAULT 'balanced'
                 CHECK (operating_mode IN ('aggressive', 'balanced', 'conservative', 'opportunistic')),
  relay_id       TEXT NOT NULL DEFAULT '',

  min_on_s            INTEGER NOT NULL DEFAULT 600 CHECK (min_on_s >= 0),
  min_off_s           INTEGER NOT NULL DEFAULT 300 CHECK (min_off_s >= 0),
  start_delay_s       INTEGER NOT NULL DEFAULT 60 CHECK (start_delay_s >= 0),
  stop_delay_s        INTEGER NOT NULL DEFAULT 120 CHECK (stop_delay_s >= 0),
  max_starts_per_hour INTEGER NOT NULL DEFAULT 4 CHECK (max_starts_per_hour BETWEEN 0 AND 60),  -- 0: no limit

  stale_policy TEXT NOT NULL DEFAULT 'off' CHECK (stale_policy IN ('off', 'hold', 'on')),

  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),

  -- Table constraints (SQLite wants them after the columns).
  CHECK (emergency_stop_voltage < stop_voltage AND stop_voltage < start_voltage),
  CHECK (require_excess_solar = 0 OR minimum_excess_w > 0),
  CHECK (require_sunny = 0 OR minimum_solar_w > 0)
) STRICT;

CREATE INDEX miner_profiles_priority ON miner_profiles (priority, id);

CREATE TABLE hvac_zones (
  id        INTEGER PRIMARY KEY,
  name      TEXT NOT NULL UNIQUE CHECK (length(name) > 0),
  zone_type TEXT NOT NULL DEFAULT 'equipment' CHECK (zone_type IN ('equipment', 'battery', 'living', 'outdoor')),
  sensor_id TEXT NOT NULL DEFAULT '',

  too_hot_c  REAL NOT NULL,
  hot_ok_c   REAL NOT NULL,
  too_cold_c REAL NOT NULL,
  cold_ok_c  REAL NOT NULL,

  -- Cooling. A NULL relay means the zone has no exhaust fan.
  exhaust_fan_relay TEXT,
  fan_speed_control TEXT NOT NULL DEFAULT 'none' CHECK (fan_speed_control IN ('none', 'auto')),
  fan_max_speed     INTEGER NOT NULL DEFAULT 10 CHECK (fan_max_speed BETWEEN 1 AND 100),
  fan_stale_policy  TEXT NOT NULL DEFAULT 'on' CHECK (fan_stale_policy IN ('off', 'hold', 'on')),

  -- Heating: priority 1 and 2 choose between the zone's miner and its heater.
  heating_priority_1 TEXT NOT NULL DEFAULT 'none' CHECK (heating_priority_1 IN ('miner', 'heater', 'none')),
  heating_priority_2 TEXT NOT NULL DEFAULT 'none' CHECK (heating_priority_2 IN ('miner', 'heater', 'none')),
  heat_miner   TEXT REFERENCES miner_profiles (name) ON UPDATE CASCADE ON DELETE SET NULL,
  heater_relay TEXT,
  heater_stale_policy         TEXT NOT NULL DEFAULT 'off' CHECK (heater_stale_policy IN ('off', 'hold', 'on')),
  minimum_solar_for_heating_w REAL NOT NULL DEFAULT 0 CHECK (minimum_solar_for_heating_w >= 0),

  -- Set for a zone that holds the battery: charging is blocked below this battery temperature.
  block_charging_below_c REAL,

  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),

  -- Table constraints (SQLite wants them after the columns).
  CHECK (too_cold_c < cold_ok_c AND hot_ok_c < too_hot_c AND cold_ok_c < hot_ok_c),
  CHECK (heating_priority_1 = 'none' AND heating_priority_2 = 'none' OR heating_priority_1 <> heating_priority_2),
  CHECK (heating_priority_1 <> 'none' OR heating_priority_2 = 'none'),
  CHECK (heat_miner IS NOT NULL OR 'miner' NOT IN (heating_priority_1, heating_priority_2)),
  CHECK (heater_relay IS NOT NULL OR 'heater' NOT IN (heating_priority_1, heating_priority_2))
) STRICT;

-- updated_at follows every change. Not recursive: recursive_triggers is off, and the WHEN clause
-- skips updates that set updated_at themselves.
CREATE TRIGGER site_preferences_touch AFTER UPDATE ON site_preferences FOR EACH ROW
  WHEN NEW.updated_at IS OLD.updated_at
BEGIN
  UPDATE site_preferences SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id;
END;

CREATE TRIGGER miner_profiles_touch AFTER UPDATE ON miner_profiles FOR EACH ROW
  WHEN NEW.updated_at IS OLD.updated_at
BEGIN
  UPDATE miner_profiles SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id;
END;

CREATE TRIGGER hvac_zones_touch AFTER UPDATE ON hvac_zones FOR EACH ROW
  WHEN NEW.updated_at IS OLD.updated_at
BEGIN
  UPDATE hvac_zones SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id;
END;
