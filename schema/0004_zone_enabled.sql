-- A zone can be switched off in its profile like a miner: its fan and heater are then held off
-- and need no relay. Its cold-charge limit (block_charging_below_c) still applies: that protects
-- the battery, not a load.
ALTER TABLE hvac_zones ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1));
