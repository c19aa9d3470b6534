-- What the rules were given, cycle by cycle, so that `shackd replay` runs them again on the very
-- inputs the daemon decided on (minute averages lose a 20-second sag that stopped a heater).
-- One row per UTC minute, written in the same transaction as that minute's telemetry; the text
-- format is described in daemon/store/cycle_journal.hpp. Kept database.journal_days (default 7).
-- A rowid table keyed by the minute's unix time: a row of a few kB fits one leaf page, where a
-- WITHOUT ROWID table (an index B-tree, about 1 kB stored in place) spills each row to overflow
-- pages; measured in the soak, that doubled the journal's share of the writes.
CREATE TABLE cycle_journal (
  minute_s INTEGER PRIMARY KEY,          -- unix time of the UTC minute's start
  format   INTEGER NOT NULL CHECK (format = 1),
  cycles   TEXT NOT NULL
) STRICT;
