-- A miner's start draw (issue 59): what it draws for the first moments of a start, its PSU's
-- inrush, held to its AC source's surge_w (rules/ac_budget.cpp: the phase's load, this cycle's
-- other start draws, this one and margin_w within surge_w). NULL, the default: its rated draw, so
-- a site that sets none decides as before.
ALTER TABLE miner_profiles ADD COLUMN start_w REAL CHECK (start_w >= 0);
