-- What each load used, per local day (the site's timezone): metered where its relay reports its
-- own power (Tasmota ENERGY.Power, Shelly apower), else its rated draw while on. One row per load
-- and day, rewritten with the minute's telemetry while the load runs: a few rows a day, kept
-- 400 days so a year's harvest can be compared with the last.
CREATE TABLE load_energy (
  day        TEXT NOT NULL,                             -- local date, 2026-11-23
  load_id    TEXT NOT NULL,                             -- as load_state: "miner:Dump Load S19 #1"
  wh         REAL NOT NULL CHECK (wh >= 0),
  on_s       REAL NOT NULL CHECK (on_s >= 0),           -- time on
  metered_s  REAL NOT NULL CHECK (metered_s >= 0),      -- of on_s, counted from the relay's meter
  unrated_s  REAL NOT NULL CHECK (unrated_s >= 0),      -- of on_s, with no meter and no rating
  PRIMARY KEY (day, load_id)
) STRICT, WITHOUT ROWID;
