#!/usr/bin/env bash
# Relays that switch themselves ON after a power cut (issue 47): the owner's example site served
# by `shackd-sim --site-from`, its Tasmota primary at PowerOnState 3 (Tasmota's default) and its
# Shelly Gen2 dump load at initial_state restore_last. A power cut with both loads on brings both
# back ON by themselves; `check --broker` and `status` (from the running daemon) warn of each, with
# the fix; `shackd relays power-on-off` refuses to act without consent, then sets both and they
# confirm; the daemon hears of it and the warnings go; the same cut then brings both back OFF.
source "$(dirname "$0")/lib.sh"
start_broker

python3 - "$SRC/config/shackd.example.yaml" "$WORK/owner.yaml" "$MQTT_PORT" "$WORK" <<'PY'
import sys
src, out, port, work = sys.argv[1:]
t = open(src).read()
def sub(a, b):
    global t
    assert a in t, a
    t = t.replace(a, b, 1)
sub("uri: tcp://127.0.0.1:1883", f"uri: tcp://127.0.0.1:{port}")
sub("path: /var/lib/shackd/shackd.db", f"path: {work}/owner.db")
sub("interval_ms: 2000", "interval_ms: 500")
open(out, "w").write(t)
PY

mkfifo "$WORK/sim.in"
"$BUILD/shackd-sim" --site-from "$WORK/owner.yaml" --write-config "$WORK/try.yaml" --sensor-period 1 \
  --relay-power-on primary_s21=3 --relay-power-on dump_s19_1=restore_last <"$WORK/sim.in" >"$WORK/sim.out" 2>&1 &
PIDS+=($!)
exec {SIM_FD}>"$WORK/sim.in"
wait_for "the simulator's broker connection" 10 "grep -q '^mqtt connected' '$WORK/sim.out'" || { cat "$WORK/sim.out"; finish; exit 1; }
simcmd() { echo "$*" >&"$SIM_FD"; }
# sim_says PATTERN: the simulator printed a line matching PATTERN (bounded wait).
sim_says() { wait_for "the simulator to print '$1'" 5 "grep -qE '$1' '$WORK/sim.out'"; }
cfg=$WORK/try.yaml

# The danger itself: both loads running, the site's power goes and comes back.
simcmd load primary_s21 on
simcmd load dump_s19_1 on
simcmd power_cut
check "Tasmota at PowerOnState 3 powers its miner back ON by itself" \
  'sim_says "^relay primary_s21 powered up ON \(power-on setting 3\)"'
check "the Shelly at restore_last powers its load back ON by itself" \
  'sim_says "^relay dump_s19_1 powered up ON \(power-on setting restore_last\)"'

# check --broker: asks each relay, warns of each with the fix; still exit 0 (a warning).
out=$("$BUILD/shackd" check --config "$cfg" --broker 2>&1); rc=$?
check "check --broker exits 0 (exit $rc)" '[[ $rc -eq 0 ]]' || echo "$out"
check "check warns of the Tasmota at PowerOnState 3, with the fix" \
  'grep -qE "^warning: relay primary_s21 \(tasmota\): comes back ON by itself after a power cut: .*PowerOnState 3.*shackd relays power-on-off" <<<"$out"' ||
  echo "$out"
check "check warns of the Shelly at restore_last, with the fix" \
  'grep -qE "^warning: relay dump_s19_1 \(shelly_gen2\): comes back ON by itself .*initial_state restore_last.*shackd relays power-on-off" <<<"$out"'
check "check says what it cannot read, and what to set by hand (ESPHome, Gen1)" \
  'grep -qE "^note: relay heat_room_heater \(esphome\): .*restore_mode: ALWAYS_OFF" <<<"$out" &&
   grep -qE "^note: relay main_room_fan \(shelly_gen1\): .*default_state=off" <<<"$out"'
check "without --broker, check asks no relay" \
  '! "$BUILD/shackd" check --config "$cfg" 2>&1 | grep -q "relay primary_s21 (tasmota)"'

# The running daemon asks at connect; status warns from what it published.
start_daemon "$cfg" || { finish; exit 1; }
status() { "$BUILD/shackd" status --config "$cfg" 2>&1; }
check_within "status warns of the Tasmota" 15 \
  'status | grep -qE "^WARNING relay primary_s21 \(Primary S21\+\): comes back ON by itself.*PowerOnState 3"'
check_within "status warns of the Shelly" 5 \
  'status | grep -qE "^WARNING relay dump_s19_1 \(.*\): comes back ON by itself.*restore_last"'
# (relays that say the same are one line: "relays primary_s21, ..., each: relay_power_on: ...")
check "the daemon's alarm is in its log" 'daemon_log | grep "relay_power_on: comes back ON" | grep -qE "relays? ([a-z0-9_]+, )*primary_s21[,:]"'
check "Home Assistant's entity reads the published state" \
  '[[ $(retained "shack-try/load/primary_s21/power_on" | python3 -c "import json,sys; print(json.load(sys.stdin)[\"risk\"])") == on ]]'

# No consent, no change: not on a terminal and without --yes, it refuses and sets nothing.
out=$("$BUILD/shackd" relays power-on-off --config "$cfg" --relay primary_s21,dump_s19_1 </dev/null 2>&1); rc=$?
check "without --yes off a terminal: refused, exit 64 (got $rc)" '[[ $rc -eq 64 ]] && grep -q "run it again with --yes" <<<"$out"'
check "it said what it would set" 'grep -qxF "  will set: PowerOnState = 0 (for every relay of this device)" <<<"$out" &&
  grep -qxF "  will set: initial_state = off" <<<"$out"'
simcmd relay_power_on primary_s21
check "nothing was set" 'sim_says "^relay primary_s21 power-on 3$"'

# With consent: set, asked again, confirmed by each device.
out=$("$BUILD/shackd" relays power-on-off --config "$cfg" --relay primary_s21,dump_s19_1 --yes 2>&1); rc=$?
check "power-on-off exits 0 (got $rc)" '[[ $rc -eq 0 ]]' || echo "$out"
check "the Tasmota confirms PowerOnState 0" \
  'grep -qE "^relay primary_s21: confirmed: stays OFF after a power cut: .*PowerOnState 0" <<<"$out"'
check "the Shelly confirms initial_state off" \
  'grep -qE "^relay dump_s19_1: confirmed: stays OFF after a power cut: .*initial_state off" <<<"$out"'
simcmd relay_power_on primary_s21
simcmd relay_power_on dump_s19_1
check "the devices hold it" 'sim_says "^relay primary_s21 power-on 0$" && sim_says "^relay dump_s19_1 power-on off$"'
# The daemon heard (Tasmota's answer on stat/RESULT, the Shelly's config_changed event).
check_within "status no longer warns of them" 10 \
  '! status | grep -qE "^WARNING relay (primary_s21|dump_s19_1) "'
check "... but still of the relay left as it was" 'status | grep -qE "^WARNING relay heat_room_fan "'
check "the alarm's end is in the log" 'daemon_log | grep -q "relay primary_s21: relay_power_on_ok"'
out=$("$BUILD/shackd" relays power-on-off --config "$cfg" --relay primary_s21 </dev/null 2>&1); rc=$?
check "run again: nothing to set, exit 0 (got $rc)" '[[ $rc -eq 0 ]] && grep -q "^nothing to set" <<<"$out"'

# The same cut now: both stay off until shackd decides.
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
simcmd load primary_s21 on
simcmd load dump_s19_1 on
simcmd power_cut
check "the Tasmota powers up OFF" 'sim_says "^relay primary_s21 powered up OFF \(power-on setting 0\)"'
check "the Shelly powers up OFF" 'sim_says "^relay dump_s19_1 powered up OFF \(power-on setting off\)"'

out=$("$BUILD/shackd" relays power-on-off --config "$cfg" --relay nosuch --yes 2>&1); rc=$?
check "an unknown relay: usage, exit 64 (got $rc)" '[[ $rc -eq 64 ]] && grep -q "no such relay" <<<"$out"'
finish
