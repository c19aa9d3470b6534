-- A zone can be switched off in its profile like a miner: its fan and heater are then held off
-- and need no relay. Its cold-charge limit (block_charging_below_c) still applies: that protects
-- the battery, not a load.
ALTER TABLE hvac_zones ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1));

-- A heater starts only above voltage_low by more than its own sag, or it stops itself: its draw
-- pulls the bank under the limit it started at (heater_power_w / voltage_low x the bank's
-- internal_resistance_ohm), and with one limit for start and stop it flaps at min_off. The start
-- limit is voltage_low + the larger of that sag and the site's load_start_margin_v.
ALTER TABLE hvac_zones ADD COLUMN heater_power_w REAL NOT NULL DEFAULT 0 CHECK (heater_power_w >= 0);
ALTER TABLE site_preferences ADD COLUMN load_start_margin_v REAL NOT NULL DEFAULT 0.5
  CHECK (load_start_margin_v >= 0);
