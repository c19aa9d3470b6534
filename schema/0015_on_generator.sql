-- What each load does while a generator feeds the site (issue 59, part 4; docs/guide.md, "On
-- generator power"): allow (it runs, within the generator's rating), surplus_only (only while the
-- sun's surplus covers it, no generator energy) or never. Miners default to surplus_only: fuel
-- spent on hashing is what an owner least wants. Heaters default to allow: a heater runs only for
-- a freezing zone, and a generator is what a cold dark site runs it on. Fans have no policy: they
-- cool a room and stopping them is never the safe side.
ALTER TABLE miner_profiles ADD COLUMN on_generator TEXT NOT NULL DEFAULT 'surplus_only'
  CHECK (on_generator IN ('allow', 'surplus_only', 'never'));
ALTER TABLE hvac_zones ADD COLUMN heater_on_generator TEXT NOT NULL DEFAULT 'allow'
  CHECK (heater_on_generator IN ('allow', 'surplus_only', 'never'));
