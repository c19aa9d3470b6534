-- A miner's longest run: once a run has lasted max_runtime_s it stops (stop_delay_s and min_on_s
-- apply as to any stop) and min_off_s rests it before the next; 0, the default, is no limit. A
-- stop voltage that is never reached (the cells balancing at absorption) otherwise lets a run go
-- on for as long as the sun allows (victronenergy/venus#1246).
ALTER TABLE miner_profiles ADD COLUMN max_runtime_s INTEGER NOT NULL DEFAULT 0 CHECK (max_runtime_s >= 0);
