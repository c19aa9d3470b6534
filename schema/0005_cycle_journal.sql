-- What the rules were given, cycle by cycle, so that `shackd replay` runs them again on the very
-- inputs the daemon decided on (minute averages lose a 20-second sag that stopped a heater).
-- One row per UTC minute, written in the same transaction as that minute's telemetry; the text
-- format is described in daemon/store/cycle_journal.hpp. Kept database.journal_days (default 7).
CREATE TABLE cycle_journal (
  minute TEXT PRIMARY KEY,               -- UTC start of the minute
  format INTEGER NOT NULL CHECK (format = 1),
  cycles TEXT NOT NULL
) STRICT, WITHOUT ROWID;
