-- Runtime state and history. Written sparingly: this database lives on an SD card.

-- One row per load, written only when something in it changes. A restart reads it back so
-- that no relay flaps. Loads are 'miner:<name>', 'fan:<zone>' and 'heater:<zone>'.
CREATE TABLE load_state (
  load_id          TEXT PRIMARY KEY,
  commanded_on     INTEGER NOT NULL DEFAULT 0 CHECK (commanded_on IN (0, 1)),
  since            TEXT,        -- when the commanded state last changed
  last_start       TEXT,
  last_stop        TEXT,
  starts_this_hour INTEGER NOT NULL DEFAULT 0 CHECK (starts_this_hour >= 0),
  override_mode    TEXT NOT NULL DEFAULT 'auto' CHECK (override_mode IN ('auto', 'on', 'off')),
  override_until   TEXT,        -- NULL: until cleared
  on_seconds       INTEGER NOT NULL DEFAULT 0 CHECK (on_seconds >= 0),
  relay_cycles     INTEGER NOT NULL DEFAULT 0 CHECK (relay_cycles >= 0),
  updated_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- Every actuation and alarm, with its reason and the inputs it was decided on.
CREATE TABLE events (
  id             INTEGER PRIMARY KEY,
  at             TEXT NOT NULL,
  kind           TEXT NOT NULL CHECK (kind IN ('actuation', 'alarm', 'override', 'config', 'lifecycle')),
  load_id        TEXT,
  commanded_on   INTEGER CHECK (commanded_on IN (0, 1)),
  reason_code    INTEGER NOT NULL CHECK (reason_code >= 0),
  reason         TEXT NOT NULL,   -- the code's stable name
  detail         TEXT NOT NULL DEFAULT '',
  battery_v      REAL,
  voltage_source TEXT,
  pv_w           REAL,
  load_w         REAL,
  temp_c         REAL
) STRICT;
CREATE INDEX events_at ON events (at);

-- One row per minute, aggregated in memory and written in one transaction. WITHOUT ROWID: the
-- minute is the key, so each insert touches one B-tree instead of two (fewer SD-card pages).
CREATE TABLE telemetry (
  minute         TEXT PRIMARY KEY,  -- UTC start of the minute
  samples        INTEGER NOT NULL CHECK (samples > 0),
  battery_v_min  REAL, battery_v_avg REAL, battery_v_max REAL,
  soc_pct_avg    REAL,
  pv_w_min       REAL, pv_w_avg REAL, pv_w_max REAL,
  load_w_min     REAL, load_w_avg REAL, load_w_max REAL,
  battery_temp_c_min REAL, battery_temp_c_avg REAL, battery_temp_c_max REAL
) STRICT, WITHOUT ROWID;

CREATE TABLE telemetry_zone (
  minute     TEXT NOT NULL,
  zone       TEXT NOT NULL,
  temp_c_min REAL, temp_c_avg REAL, temp_c_max REAL,
  PRIMARY KEY (minute, zone)
) STRICT, WITHOUT ROWID;

-- Each YAML config applied to the profiles, or refused.
CREATE TABLE config_history (
  id         INTEGER PRIMARY KEY,
  applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  sha256     TEXT NOT NULL CHECK (length(sha256) = 64),
  source     TEXT NOT NULL DEFAULT '',
  outcome    TEXT NOT NULL CHECK (outcome IN ('applied', 'unchanged', 'rejected')),
  message    TEXT NOT NULL DEFAULT ''
) STRICT;
