#!/usr/bin/env bash
# The overload hold survives a restart (issue 59), as a process: mosquitto, shackd-sim and shackd
# on loopback. The simulated inverter delivers 6 kW (its VE.Bus overload word reads 1 above it; no
# trip within the test), the config rates it higher, so both miners start and the inverter's own
# warning sheds the dump. Its 20 s hold runs; shackd is killed (-9) once the overload's end is
# written and started again: the dump waits for the rest of the hold, as the run would have, and
# starts only after it. (Before the fix the restarted daemon started it a second after its start.)
# Usage: BUILD=build SRC=. overload_restart.sh
source "$(dirname "$0")/lib.sh"

now_s() { date +%s.%N; }
start_broker
start_sim --vebus-unit 227 --inverter-w 6000 --inverter-trip-s 120 --battery-v 55.5 --pv-w 12000 --house-w 500
write_config "$WORK/shackd.yaml" "$SRC/tests/e2e/overload.yaml"
spy 'cmnd/dump_s19_1/#' 'shack/load/dump_s19_1/reason'
start_daemon "$WORK/shackd.yaml" || { cat "$WORK/shackd.log"; exit 1; }

check_within "the dump starts (the config's rating has room)" 15 'grep -q "cmnd/dump_s19_1/POWER1 ON" "$WORK/spy.log"'
check_within "the inverter's own warning sheds it (ac_overload)" 10 \
  'grep -q "^shack/load/dump_s19_1/reason .*\"name\":\"ac_overload\"" "$WORK/spy.log"'
shed_s=$(now_s)
check_within "then its start is held (ac_overload_hold)" 5 \
  'grep -q "\"name\":\"ac_overload_hold\"" <<<"$(retained shack/load/dump_s19_1/reason)"'
# The end of the overload is written once it has been over for 10 s (kAcOverloadSettle): kill after.
sleep 12
check "the overload's end is in the database" \
  '[[ $(sqlite3 "$WORK/shackd.db" "SELECT ongoing FROM ac_overload WHERE source = '"'"'inverter'"'"' AND phase = 1") == 0 ]]'
kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
: >"$WORK/spy.log"
sleep 1  # the replay's range (whole seconds) starts after the killed daemon's last cycle
restart_iso=$(date -u +%Y-%m-%dT%H:%M:%SZ)
start_daemon "$WORK/shackd.yaml" || { daemon_log | tail -20; exit 1; }
restarted_s=$(now_s)
daemon_log | grep "starts held" | sed 's/^/  log: /'
check "the start says what it restored" 'daemon_log | grep -qE "inverter: overloaded [0-9]+ s before this start .*; starts held [0-9]+ s more \(overload_hold_s 20\)"'
# Its start delay first (1 s), then the hold, before any ON (the reason a start would overload).
check_within "the restarted daemon holds the dump's start (ac_overload_hold before any ON)" 5 \
  'awk "/^cmnd\/dump_s19_1\/POWER1 ON/ { exit 1 } /^shack\/load\/dump_s19_1\/reason .*\"name\":\"ac_overload_hold\"/ { found = 1; exit 0 } END { exit !found }" "$WORK/spy.log"'
# The hold runs out 20 s after the shed: up to then (less a second's leeway) no ON. Watched, so
# that an early start is timed.
hold_end_s=$(awk -v s="$shed_s" 'BEGIN { printf "%.3f", s + 19 }')
echo "measured: restarted $(awk -v s="$shed_s" -v r="$restarted_s" 'BEGIN { printf "%.1f", r - s }') s after the shed"
on_s=
while awk -v e="$hold_end_s" -v n="$(now_s)" 'BEGIN { exit !(n < e) }'; do
  if grep -q "cmnd/dump_s19_1/POWER1 ON" "$WORK/spy.log"; then on_s=$(now_s); break; fi
  sleep 0.1
done
[[ -z $on_s ]] || echo "measured: the dump started $(awk -v s="$shed_s" -v o="$on_s" 'BEGIN { printf "%.1f", o - s }') s after the shed"
absent "no start of the dump before the hold ran out" 'cmnd/dump_s19_1/POWER1 ON'
# The replay from the restart: stopped now, a second before the hold runs out (a stop writes the
# journal's open minute, and the dump's next start, which overloads the inverter again, would
# write a row that hides this one), the replay restores the stored overload at the daemon's start
# as the daemon did and holds the dump as it did. Before it did, it started the dump a second
# after the restart ("recorded nothing, replay ON at ...").
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
sqlite3 "$WORK/shackd.db" "SELECT 'ac_overload row: ' || source, phase, last_s, ongoing FROM ac_overload" | sed 's/^/  /'
"$BUILD/shackd" replay --config "$WORK/shackd.yaml" --since "$restart_iso" >"$WORK/replay.out" 2>&1
replay_rc=$?
sed 's/^/  replay: /' "$WORK/replay.out" | grep -v "^  replay: .* h .* st" | tail -14
check "replay from the restart agrees with the record (exit $replay_rc)" \
  '[[ $replay_rc == 0 ]] && grep -q "the replay agrees with the record" "$WORK/replay.out"'
# Started again, the daemon holds what is left of the hold and then starts the dump.
start_daemon "$WORK/shackd.yaml" || { daemon_log | tail -20; exit 1; }
if [[ -z $on_s ]]; then
  check_within "once it has, the dump starts again (the listener hears a start)" 15 \
    'grep -q "cmnd/dump_s19_1/POWER1 ON" "$WORK/spy.log"'
  echo "measured: the dump's start came $(awk -v s="$shed_s" -v o="$(now_s)" 'BEGIN { printf "%.1f", o - s }') s after the shed (hold 20 s)"
fi
daemon_alive "at the end"
finish
