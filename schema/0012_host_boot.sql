-- The host's boot as shackd last started on it (issue 56): at the next start, another boot id
-- means the controller itself restarted in between (a power cut, a reboot), which the start's
-- judgement of the relays needs. Written once per start.
CREATE TABLE host_boot (
  singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
  boot_id    TEXT NOT NULL CHECK (length(boot_id) BETWEEN 1 AND 64),  -- /proc/sys/kernel/random/boot_id
  started_at TEXT NOT NULL                                            -- UTC, ISO 8601
) STRICT;
