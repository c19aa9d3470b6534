-- A miner's own API acts on a load too: an actuation event with no relay state (commanded_on
-- NULL) is a command through its API (sleep, wake, a power target). target_w is the power target
-- it took, W, so that the day report draws the target as a line without reading it from words.
ALTER TABLE events ADD COLUMN target_w REAL CHECK (target_w IS NULL OR (target_w > 0 AND target_w < 100000));
