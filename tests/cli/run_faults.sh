#!/usr/bin/env bash
# `shackd run` as a process against what a site throws at it outside the broker (issue 27): a full
# card at the first start and at an upgrade, a second shackd on the same database, SIGUSR1/SIGUSR2, a stderr whose
# reader has gone, the database deleted while it runs. No broker and no devices are needed: the
# daemon runs on, deciding without a voltage, and each case looks at its exit status or its log.
# Usage: run_faults.sh path/to/shackd path/to/source
set -uo pipefail
shackd=${1:?usage: run_faults.sh SHACKD SRC}
src=${2:?usage: run_faults.sh SHACKD SRC}
dir=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok: $1"; }
fail() { failed=$((failed + 1)); printf 'FAIL: %s\n' "$*"; }

# Nothing listens on these ports: the devices and the broker are down, the loop runs anyway.
config() {  # config NAME DB
  sed -e "s|\${DB}|$2|" -e 's|\${VICTRON_PORT}|9|' -e 's|\${SOLARK_PORT}|9|' -e 's|\${MQTT_PORT}|9|' \
    "$src/tests/e2e/e2e.yaml" >"$dir/$1.yaml"
}
# Waits up to 10 s for a file to contain a fixed string.
wait_for() {  # wait_for FILE TEXT
  for _ in $(seq 100); do grep -qF -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

# 1. A full card at the first start or at an upgrade (issue 48): the site is controlled from a
#    copy of the database in memory, said at the start and at the stop; it used to exit 75 at every
#    try until systemd's start limit (10 in 300 s) left the site uncontrolled after about a minute.
#    A file size limit stands in for a full card: SQLite's write fails the same way (SQLITE_FULL
#    or SQLITE_IOERR). SIGXFSZ ignored, as a full disk sends none.
limited_run() {  # limited_run KB CONFIG LOG: shackd run in the background under a file size limit
  # Its log through cat, which the limit does not bind.
  (trap '' XFSZ; ulimit -f "$1"; exec "$shackd" run --config "$2") 2> >(cat >"$3") &
  last_pid=$!
  pids+=("$last_pid")
}
config full "$dir/full.db"
limited_run 4 "$dir/full.yaml" "$dir/full.log"
full=$last_pid
if wait_for "$dir/full.log" "controlling the site from a copy in memory (a new database: the config's profiles)" &&
  wait_for "$dir/full.log" "first decision"; then ok "a full card at the first start: it controls the site from memory"
else fail "a full card at the first start: $(cat "$dir/full.log")"; fi
sleep 1
if kill -0 "$full" 2>/dev/null; then ok "and keeps running (no exit for systemd to count)"; else fail "it exited: $(tail -3 "$dir/full.log")"; fi
kill -TERM "$full"
wait "$full"
rc=$?
if [[ $rc -eq 0 ]] && grep -qF "what was recorded in memory since the start is lost: the card still cannot take it" "$dir/full.log" &&
  ! grep -q terminate "$dir/full.log"; then ok "its stop says what is lost"
else fail "a full card, SIGTERM: exit $rc: $(tail -3 "$dir/full.log")"; fi
# Room again: the next start makes the database on the card.
"$shackd" run --config "$dir/full.yaml" 2>"$dir/full2.log" &
room=$!
pids+=("$room")
if wait_for "$dir/full2.log" "first decision" && ! grep -qF "copy in memory" "$dir/full2.log"; then ok "with room again it uses the card"
else fail "with room again: $(cat "$dir/full2.log")"; fi
kill -TERM "$room"
wait "$room"

# An upgrade: a database one migration behind (made with the schema files but the last), and a
# card too full for the backup taken before migrating. The copy in memory holds the file's own
# profiles, migrated; the file is left as it was.
mkdir -p "$dir/old-schema"
ls "$src"/schema/*.sql | sort | head -n -1 | xargs -I{} cp {} "$dir/old-schema/"
config upgrade "$dir/upgrade.db"
"$shackd" migrate --db "$dir/upgrade.db" --schema-dir "$dir/old-schema" >/dev/null
old_version=$(sqlite3 "$dir/upgrade.db" "PRAGMA user_version")
size_kb=$(( $(stat -c %s "$dir/upgrade.db") / 1024 ))
limited_run $((size_kb / 2)) "$dir/upgrade.yaml" "$dir/upgrade.log"
upgrade=$last_pid
if wait_for "$dir/upgrade.log" "controlling the site from a copy in memory (its profiles, loads' states and history as the file holds them)" &&
  wait_for "$dir/upgrade.log" "first decision"; then ok "a full card at an upgrade: it controls the site from a migrated copy"
else fail "a full card at an upgrade: $(cat "$dir/upgrade.log")"; fi
kill -TERM "$upgrade"
wait "$upgrade"
rc=$?
if [[ $rc -eq 0 && $(sqlite3 "$dir/upgrade.db" "PRAGMA user_version") == "$old_version" ]] &&
  [[ $(sqlite3 "$dir/upgrade.db" "PRAGMA integrity_check") == ok ]]; then ok "and leaves the file as it was, whole"
else fail "the file after a full card at an upgrade: exit $rc, version $(sqlite3 "$dir/upgrade.db" "PRAGMA user_version")"; fi

# 2. One shackd per database: the second is refused with the first one's pid, exit 75.
config one "$dir/one.db"
"$shackd" run --config "$dir/one.yaml" 2>"$dir/one.log" &
first=$!
pids+=("$first")
if wait_for "$dir/one.log" "first decision"; then ok "the first instance decides"
else fail "the first instance never decided: $(cat "$dir/one.log")"; fi
out=$(timeout 20 "$shackd" run --config "$dir/one.yaml" 2>&1)
rc=$?
if [[ $rc -eq 75 ]] && grep -qF "is used by another shackd (pid $first)" <<<"$out"; then ok "a second instance is refused, naming the first"
else fail "a second instance on the same database: exit $rc: $out"; fi

# 3. SIGUSR1 and SIGUSR2 do nothing (their default ends the process without a clean stop).
kill -USR1 "$first"
kill -USR2 "$first"
sleep 0.5
if kill -0 "$first" 2>/dev/null; then ok "SIGUSR1 and SIGUSR2 are ignored"
else fail "SIGUSR1/SIGUSR2 ended the daemon"; fi

# 4. The database deleted under the running daemon is an alarm within a cycle.
rm -f "$dir/one.db"
if wait_for "$dir/one.log" "database $dir/one.db was deleted while shackd runs"; then ok "a deleted database is an alarm"
else fail "no alarm for the deleted database: $(tail -5 "$dir/one.log")"; fi
kill -TERM "$first"
wait "$first"
rc=$?
if [[ $rc -eq 0 ]]; then ok "SIGTERM stops it cleanly"; else fail "SIGTERM: exit $rc"; fi

# 5. A log that cannot be written never ends the controller: stderr is a pipe whose reader
#    leaves after the first bytes (journald restarting does this); with SIGPIPE ignored each
#    write fails with EPIPE. It used to exit 70 within 0.1 s.
config pipe "$dir/pipe.db"
"$shackd" run --config "$dir/pipe.yaml" 2> >(head -c 10 >/dev/null) &
piped=$!
pids+=("$piped")
sleep 2
if kill -0 "$piped" 2>/dev/null; then ok "a stderr whose reader left: still running after 2 s"
else wait "$piped"; fail "a stderr whose reader left ended the daemon (exit $?)"; fi
# And it went on deciding: its lock's pid is there and its database has been written since.
if [[ -s "$dir/pipe.db" ]] && grep -qx "$piped" "$dir/pipe.db.lock"; then ok "it kept its database and lock"
else fail "no database or lock for the daemon with the broken stderr"; fi
kill -TERM "$piped" 2>/dev/null
wait "$piped"
rc=$?
if [[ $rc -eq 0 ]]; then ok "and stops cleanly with its log gone"; else fail "broken stderr, SIGTERM: exit $rc"; fi

# 6. stderr closed altogether.
config closed "$dir/closed.db"
"$shackd" run --config "$dir/closed.yaml" 2>&- &
closed=$!
pids+=("$closed")
sleep 2
if kill -0 "$closed" 2>/dev/null; then ok "stderr closed: still running after 2 s"
else wait "$closed"; fail "a closed stderr ended the daemon (exit $?)"; fi
kill -TERM "$closed" 2>/dev/null
wait "$closed"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
