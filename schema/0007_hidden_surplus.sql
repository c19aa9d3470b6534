-- Hidden surplus: off-grid, chargers in absorption or float hold PV back, so the measured PV
-- minus the house load hides the surplus. A miner with probe_hidden_surplus (and
-- require_excess_solar) may then start without the measured surplus, as a probe; it stays when
-- for probe_settle_s the battery discharges no more than probe_max_discharge_a, gives up no more
-- than probe_max_ah and stays above voltage_float - probe_margin_v; else it stops at once and the
-- next probe waits probe_backoff_min_s, doubling up to probe_backoff_max_s. Off by default.
ALTER TABLE miner_profiles ADD COLUMN probe_hidden_surplus INTEGER NOT NULL DEFAULT 0
  CHECK (probe_hidden_surplus IN (0, 1));
ALTER TABLE site_preferences ADD COLUMN probe_settle_s INTEGER NOT NULL DEFAULT 60 CHECK (probe_settle_s > 0);
ALTER TABLE site_preferences ADD COLUMN probe_max_discharge_a REAL NOT NULL DEFAULT 5.0
  CHECK (probe_max_discharge_a > 0);
ALTER TABLE site_preferences ADD COLUMN probe_max_ah REAL NOT NULL DEFAULT 0.5 CHECK (probe_max_ah > 0);
ALTER TABLE site_preferences ADD COLUMN probe_margin_v REAL NOT NULL DEFAULT 0.3 CHECK (probe_margin_v >= 0);
ALTER TABLE site_preferences ADD COLUMN probe_backoff_min_s INTEGER NOT NULL DEFAULT 600
  CHECK (probe_backoff_min_s > 0);
ALTER TABLE site_preferences ADD COLUMN probe_backoff_max_s INTEGER NOT NULL DEFAULT 3600
  CHECK (probe_backoff_max_s >= probe_backoff_min_s);
