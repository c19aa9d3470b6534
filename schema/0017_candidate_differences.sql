-- A candidate profile beside the one in force (issue 60, part 2): the config's `candidate:` names
-- profile changes (as `shackd replay --set` takes them); every cycle the rules decide again with
-- them, on the same inputs, from a state of their own, and nothing of it is actuated. Where the
-- candidate's decision for a load differs from the one in force, the spell is one row, opened and
-- closed as shadow_disagreements' are (0016): a few rows a day, never one a cycle. Times are unix
-- milliseconds of the cycles that opened and closed it (the cycle journal's clock, so that
-- `shackd replay --set` with the same changes finds the same spells). Kept database.events_days.
CREATE TABLE candidate_differences (
  load_id      TEXT NOT NULL,                                   -- the relay's id (relays: in the config)
  start_ms     INTEGER NOT NULL,
  end_ms       INTEGER CHECK (end_ms IS NULL OR end_ms >= start_ms),  -- NULL: still open, or shackd was killed
  candidate_on INTEGER NOT NULL CHECK (candidate_on IN (0, 1)), -- what the candidate decided
  in_force_on  INTEGER NOT NULL CHECK (in_force_on IN (0, 1)),  -- what the profiles in force decided
  reason_code  INTEGER NOT NULL CHECK (reason_code >= 0),       -- the candidate's reason (rules/reason.hpp)
  reason       TEXT NOT NULL,                                   -- the candidate's reason for people, at the start
  cycles       INTEGER NOT NULL CHECK (cycles >= 1),
  candidate    TEXT NOT NULL,                                   -- the changes, as in the config: "miners.X.start_voltage=53"
  PRIMARY KEY (load_id, start_ms)
) STRICT, WITHOUT ROWID;
CREATE INDEX candidate_differences_end ON candidate_differences (end_ms);
