#!/usr/bin/env bash
# shackd under valgrind memcheck, as a real process against shackd-sim and mosquitto: start,
# switch a load off and on, a relay that does not answer, a reload, a broker restart, SIGTERM.
# Zero leaks (definite or indirect) and zero memory errors, or the test fails.
# Usage: BUILD=build SRC=. valgrind.sh   (a build without sanitizers)
source "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null || { echo "FAIL: valgrind is not installed (scripts/setup.sh installs it)"; exit 1; }

start_broker
start_sim --battery-v 52.0
write_config "$WORK/shackd.yaml" "$SRC/tests/e2e/matrix.yaml"
spy 'cmnd/#'
valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
  --error-exitcode=99 --track-origins=no --log-file="$WORK/valgrind.log" \
  "$BUILD/shackd" run --config "$WORK/shackd.yaml" >>"$WORK/shackd.log" 2>&1 &
DAEMON_PID=$!
PIDS+=($DAEMON_PID)
wait_for "shackd's first decision under valgrind" 90 "grep -q 'first decision' '$WORK/shackd.log'"
wait_for "the primary ON" 60 "grep -q 'cmnd/primary_s21/POWER1 ON' '$WORK/spy.log'"
: >"$WORK/spy.log"   # (at boot every relay was told its state, OFF included)
sim set battery_v 46.0
wait_for "the primary OFF" 60 "grep -q 'cmnd/primary_s21/POWER1 OFF' '$WORK/spy.log'"
sim relay primary_s21 mute
sim set battery_v 52.0
wait_for "relay_unconfirmed" 60 "grep -q relay_unconfirmed '$WORK/shackd.log'"
sim relay primary_s21 ok
kill -HUP "$DAEMON_PID"
wait_for "the reload" 60 "grep -q 'SIGHUP: reloading' '$WORK/shackd.log'"
sim fault victron offline
sleep 5
sim fault victron online
kill -9 "$BROKER_PID"; sleep 1; start_broker
wait_for "the reconnect" 60 "[[ \$(grep -c 'mqtt: connected' '$WORK/shackd.log') -ge 2 ]]"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"; rc=$?
check "exit code 0 under valgrind (99: memcheck found errors or leaks)" '[[ $rc -eq 0 ]]'
summary=$(grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|All heap blocks" "$WORK/valgrind.log")
echo "$summary"
check "no memory error" 'grep -q "ERROR SUMMARY: 0 errors" <<<"$summary"'
check "no definite leak" 'grep -qE "definitely lost: 0 bytes|All heap blocks were freed" <<<"$summary"'
check "no indirect leak" 'grep -qE "indirectly lost: 0 bytes|All heap blocks were freed" <<<"$summary"'
[[ $failed -eq 0 ]] || { echo "--- valgrind"; tail -60 "$WORK/valgrind.log"; echo "--- shackd"; tail -20 "$WORK/shackd.log"; }
finish
