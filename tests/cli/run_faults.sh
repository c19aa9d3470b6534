#!/usr/bin/env bash
# `shackd run` as a process against what a site throws at it outside the broker (issue 27): a full
# disk at the first start, a second shackd on the same database, SIGUSR1/SIGUSR2, a stderr whose
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

# 1. A full disk at the first start is temporary (75, restarted by the unit), not a config error
#    (78, which RestartPreventExitStatus=78 never restarts). A file size limit stands in for a
#    full disk: SQLite's write fails the same way (SQLITE_FULL or SQLITE_IOERR).
config full "$dir/full.db"
out=$( (trap '' XFSZ; ulimit -f 4; exec timeout 20 "$shackd" run --config "$dir/full.yaml") 2>&1)
rc=$?
if [[ $rc -eq 75 ]] && ! grep -q terminate <<<"$out"; then ok "a full disk at the first start exits 75"
else fail "a full disk at the first start: exit $rc (wanted 75): $out"; fi

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
