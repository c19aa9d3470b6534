-- An alarm's end is not an alarm: 'alarm_end' is its own kind (a relay back online, a device
-- reading again, charging allowed again), so that the day report and a consumer of shack/event
-- tell a fault from its clearing. SQLite cannot change a CHECK in place: the table is rebuilt,
-- every row and id kept.
CREATE TABLE events_v11 (
  id             INTEGER PRIMARY KEY,
  at             TEXT NOT NULL,
  kind           TEXT NOT NULL CHECK (kind IN ('actuation', 'alarm', 'alarm_end', 'override', 'config', 'lifecycle')),
  load_id        TEXT,
  commanded_on   INTEGER CHECK (commanded_on IN (0, 1)),
  reason_code    INTEGER NOT NULL CHECK (reason_code >= 0),
  reason         TEXT NOT NULL,   -- the code's stable name
  detail         TEXT NOT NULL DEFAULT '',
  battery_v      REAL,
  voltage_source TEXT,
  pv_w           REAL,
  load_w         REAL,
  temp_c         REAL,
  target_w       REAL CHECK (target_w IS NULL OR (target_w > 0 AND target_w < 100000))
) STRICT;
INSERT INTO events_v11 (id, at, kind, load_id, commanded_on, reason_code, reason, detail, battery_v, voltage_source,
                        pv_w, load_w, temp_c, target_w)
  SELECT id, at, kind, load_id, commanded_on, reason_code, reason, detail, battery_v, voltage_source, pv_w, load_w,
         temp_c, target_w FROM events;
DROP TABLE events;
ALTER TABLE events_v11 RENAME TO events;
CREATE INDEX events_at ON events (at);
