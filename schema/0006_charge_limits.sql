-- The charger limits the charge block holds at 0 A (GX DVCC 2705, Sol-Ark 210), and the value
-- each held before, so that a daemon that stopped while charging was blocked puts the limit back
-- after a restart instead of leaving a charger at 0 A (or taking its own 0 for the owner's).
-- Written only when a block begins or ends: a few rows a winter.
CREATE TABLE charge_limits (
  name        TEXT PRIMARY KEY,                        -- "dvcc", "solark_charge_limit"
  applied     INTEGER NOT NULL CHECK (applied IN (0, 1)),  -- 1: shackd wrote 0 A and has not put it back
  saved       INTEGER NOT NULL,                        -- the value to put back
  updated_at  TEXT NOT NULL                            -- UTC, ISO 8601
) STRICT;
