-- The AC source that feeds each load, and its phase (issue 59): a start waits until the source's
-- phase has room for the load's draw, and an overload there sheds it. The source is an id under
-- the config's ac_sources: ('': the first, or the one default inverter of a site that names none);
-- the phase is 1 (L1) to 3. Fans draw tens of watts and cool: they are not budgeted.
ALTER TABLE miner_profiles ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE miner_profiles ADD COLUMN phase INTEGER NOT NULL DEFAULT 1 CHECK (phase BETWEEN 1 AND 3);
ALTER TABLE hvac_zones ADD COLUMN heater_source TEXT NOT NULL DEFAULT '';
ALTER TABLE hvac_zones ADD COLUMN heater_phase INTEGER NOT NULL DEFAULT 1 CHECK (heater_phase BETWEEN 1 AND 3);
