-- Shadow mode (issue 60): shackd decides beside another controller and switches nothing. Where its
-- decision for a load differs from the state the load's relay reports, it records the spell as one
-- row: opened when they first differ (end_ms NULL while it lasts), closed when they agree again,
-- when the relay's state is no longer known, when the decision's reason changes (a new row
-- follows), or when shackd stops. A few rows a day on a card that lives months: never one a cycle.
-- Times are unix milliseconds of the cycles that opened and closed the spell (the cycle journal's
-- clock); `cycles` counts the cycles that disagreed. Kept database.events_days.
CREATE TABLE shadow_disagreements (
  load_id      TEXT NOT NULL,                                -- the relay's id (relays: in the config)
  start_ms     INTEGER NOT NULL,
  end_ms       INTEGER CHECK (end_ms IS NULL OR end_ms >= start_ms),  -- NULL: still open, or shackd was killed
  would_on     INTEGER NOT NULL CHECK (would_on IN (0, 1)),  -- what shackd would have commanded
  actual_on    INTEGER NOT NULL CHECK (actual_on IN (0, 1)), -- what the relay said it was
  reason_code  INTEGER NOT NULL CHECK (reason_code >= 0),    -- rules/reason.hpp, as on <prefix>/load/<id>/reason
  reason       TEXT NOT NULL,                                -- the decision's reason for people, at the start
  cycles       INTEGER NOT NULL CHECK (cycles >= 1),
  PRIMARY KEY (load_id, start_ms)
) STRICT, WITHOUT ROWID;
CREATE INDEX shadow_disagreements_end ON shadow_disagreements (end_ms);
