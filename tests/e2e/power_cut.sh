#!/usr/bin/env bash
# Issue 56: a whole-site power cut. The primary runs; the relays and shackd lose their power
# together (shackd killed, the simulator's power_cut: each relay offline, its load drawing
# nothing); the power comes back with the battery between the primary's stop and start voltages
# (48.5 V: a running miner would run on); each relay comes back started anew, in its power-on
# state; shackd starts again. Asserted, for a Tasmota at PowerOnState 3 (it comes back ON by
# itself) and at 0 (it stays OFF):
# - a relay back ON is OFF within one cycle of shackd's first connection (its "online");
# - nothing switches the primary ON until its start rules hold: not at the connect (the stored
#   state was ON), not before min_off counted from the cut;
# - it starts again once the battery allows and min_off has passed.
# A crash with the relays powered (no cut) keeps the miner running: daemon_e2e.sh's restart.
# Usage: BUILD=build SRC=. power_cut.sh
source "$(dirname "$0")/lib.sh"

now_ms() { date +%s%3N; }
# stamped TOPIC: the arrival time (ms) of each message on TOPIC with PAYLOAD, from the spy's log.
arrivals() { awk -v t="$1" -v p="$2" '$2 == t && $3 == p { printf "%.0f\n", $1 * 1000 }' "$WORK/stamped.log"; }
first_after() { arrivals "$1" "$2" | awk -v after="$3" '$1 >= after { print; exit }'; }

start_broker
mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -F '%U %t %p' -t 'cmnd/primary_s21/POWER1' -t shack/status \
  >>"$WORK/stamped.log" 2>/dev/null &
PIDS+=($!)
sleep 0.3

min_off_s=20
off_bound_ms=1000
grep -q '^SHACKD_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null && off_bound_ms=2000
for setting in 3 0; do
  echo "--- PowerOnState $setting"
  start_sim --battery-v 52.0 --relay-power-on "primary_s21=$setting"
  DB_PATH=$WORK/shackd-$setting.db write_config "$WORK/shackd.yaml"
  # The primary's minimum off time, long enough to tell "counted from the cut" from "at once".
  python3 - "$WORK/shackd.yaml" "$min_off_s" <<'PY'
import sys
path, min_off = sys.argv[1], sys.argv[2]
t = open(path).read()
a = '    - name: "Primary S21+"\n      start_delay_s: 1\n      stop_delay_s: 1\n      min_on_s: 0\n      min_off_s: 0\n'
assert a in t
t = t.replace(a, a.replace("min_off_s: 0", "min_off_s: " + min_off), 1)
open(path, "w").write(t)
PY
  # This run's ON, not the last setting's: the spy's log holds both.
  started_at=$(now_ms)
  start_daemon "$WORK/shackd.yaml" || { finish; exit 1; }
  wait_for "the primary's ON" 10 "[[ -n \$(first_after cmnd/primary_s21/POWER1 ON $started_at) ]]" || { finish; exit 1; }
  sleep 1

  # The cut: shackd and every relay together; the battery at 48.5 V when the power returns.
  cut_at=$(now_ms)
  kill -9 "$DAEMON_PID"
  sim power_cut 4
  sim set battery_v 48.5
  wait_for "the relays' power back" 10 "grep -q '^relay primary_s21 powered up' '$WORK/sim.out'"
  came=$(grep -oE '^relay primary_s21 powered up (ON|OFF)' "$WORK/sim.out" | tail -1 | awk '{print $5}')
  expect=$([[ $setting == 3 ]] && echo ON || echo OFF)
  check "PowerOnState $setting: the relay came back $expect by itself (got $came)" '[[ $came == "$expect" ]]'
  sleep 1
  back_at=$(now_ms)
  start_daemon "$WORK/shackd.yaml" || { finish; exit 1; }
  wait_for "shackd's connection (its online)" 10 "[[ -n \$(first_after shack/status online $back_at) ]]"
  online_at=$(first_after shack/status online "$back_at")
  if [[ $setting == 3 ]]; then
    wait_for "the OFF to the relay that came back ON" 10 "[[ -n \$(first_after cmnd/primary_s21/POWER1 OFF $back_at) ]]"
    off_at=$(first_after cmnd/primary_s21/POWER1 OFF "$back_at")
    # One cycle is 250 ms; the relay's answer to the link's question at the connect comes first.
    # The sanitizer tree (-O0, ASan) is given twice the bound: alone it measured 415 ms where the
    # native tree measures 13 to 261; beside CI's TSan build, 1478 ms once (2026-11-28). Its job is
    # memory errors; the native tree holds the bound.
    echo "measured: PowerOnState 3: OFF $((off_at - online_at)) ms after shackd's connection"
    check "PowerOnState 3: OFF $((off_at - online_at)) ms after the first connection (one cycle: at most $off_bound_ms ms)" \
      '(( off_at - online_at <= off_bound_ms ))'
  fi
  # The relay's uptime answers the link's question at the connect; under a loaded CI runner the
  # answer may come after the online, so this waits (bounded) rather than looks once.
  check_within "the log saying the primary lost its power" 10 'daemon_log | grep -q "Primary S21+: its relay lost its power"'
  check_within "the event in the history" 10 \
    '[[ $(sqlite3 "$WORK/shackd-$setting.db" "SELECT count(*) FROM events WHERE load_id = '"'"'primary_s21'"'"' AND detail LIKE '"'"'power lost:%'"'"'") -ge 1 ]]'
  # At 48.5 V nothing starts it; then the battery allows it: it starts once min_off (from the cut) has passed.
  sleep 3
  check "no ON since the power came back (the stored state was ON; the battery is under start)" \
    '[[ -z $(first_after cmnd/primary_s21/POWER1 ON $back_at) ]]'
  sim set battery_v 52.0
  wait_for "the primary's start when its rules hold" $((min_off_s + 15)) \
    "[[ -n \$(first_after cmnd/primary_s21/POWER1 ON $back_at) ]]"
  on_at=$(first_after cmnd/primary_s21/POWER1 ON "$back_at")
  [[ -n $on_at ]] && echo "measured: PowerOnState $setting: started again $(( (on_at - cut_at) / 1000 )) s after the cut (min_off $min_off_s s)"
  [[ -n $on_at ]] && check "its start $(( (on_at - cut_at) / 1000 )) s after the cut: min_off ($min_off_s s) counted from the cut" \
    '(( on_at - cut_at >= min_off_s * 1000 ))'
  kill -9 "$DAEMON_PID" "$SIM_PID" 2>/dev/null
  wait "$DAEMON_PID" "$SIM_PID" 2>/dev/null
done

# The same while shackd runs: the relays (a plug, a breaker) lose their power and come back, shackd
# does not. The primary's relay comes back ON by itself (PowerOnState 3): OFF as soon as its
# uptime says so, then its start earned again.
echo "--- the relays alone, shackd running"
start_sim --battery-v 52.0 --relay-power-on "primary_s21=3"
DB_PATH=$WORK/shackd-alone.db write_config "$WORK/shackd.yaml"
started_at=$(now_ms)
start_daemon "$WORK/shackd.yaml" || { finish; exit 1; }
wait_for "the primary's ON" 10 "[[ -n \$(first_after cmnd/primary_s21/POWER1 ON $started_at) ]]" || { finish; exit 1; }
sleep 1
cut_at=$(now_ms)
sim power_cut 2
wait_for "the relays' power back" 10 "[[ \$(grep -c '^relay primary_s21 powered up ON' '$WORK/sim.out') -ge 1 ]]"
back_at=$(now_ms)
wait_for "the OFF to the relay back ON" 10 "[[ -n \$(first_after cmnd/primary_s21/POWER1 OFF $back_at) ]]"
off_at=$(first_after cmnd/primary_s21/POWER1 OFF "$back_at")
[[ -n $off_at ]] && echo "measured: the relays alone: OFF $((off_at - back_at)) ms after the relay came back ON"
check "the OFF within 2 s of the relay's return (its will, its uptime asked, a cycle)" '[[ -n $off_at ]] && (( off_at - back_at <= 2000 ))'
check_within "the log saying the primary lost its power" 10 'daemon_log | grep -q "Primary S21+: its relay lost its power"'
wait_for "the primary's start again" 20 "[[ -n \$(first_after cmnd/primary_s21/POWER1 ON $back_at) ]]"
finish
