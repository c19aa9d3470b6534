-- The last overload of each AC source's phase (issue 59), so that the overload hold
-- (overload_hold_s: no start on it after an overload) survives a restart: an inverter that
-- tripped can take the Pi's power with it, and a daemon that forgot the overload started every
-- load at once and tripped it again. Wall time only carries the instant across the restart (the
-- rules hold monotonic times), as load_state's `since` does; the start bounds what it restores by
-- overload_hold_s, so a wall clock that jumped holds no longer than one hold.
-- Written when an overload begins (ongoing = 1, last_s its first cycle) and when it has been over
-- for a few seconds (ongoing = 0, last_s its last overloaded cycle): a few rows an overload,
-- never one a cycle. A row still ongoing at the start (the stop came during the overload or
-- within seconds of its end, as a trip that took the Pi's power) holds the whole overload_hold_s.
CREATE TABLE ac_overload (
  source      TEXT NOT NULL,                                -- the AC source's id (ac_sources:; "inverter" by default)
  phase       INTEGER NOT NULL CHECK (phase BETWEEN 1 AND 3),  -- L1..L3 (1 on a single-phase source)
  last_s      INTEGER NOT NULL,                             -- unix s: the last overloaded cycle (ongoing: the first)
  ongoing     INTEGER NOT NULL CHECK (ongoing IN (0, 1)),  -- 1: overloaded at the last write
  updated_at  TEXT NOT NULL,                                -- UTC, ISO 8601
  PRIMARY KEY (source, phase)
) STRICT, WITHOUT ROWID;
