#!/usr/bin/env bash
# The full-day scenario (config/demo-day.csv) with shackd, shackd-sim and mosquitto, 180x faster
# than real time (faketime): the right relays at the right (simulated) times. The relay commands
# are read off the broker; their times off shackd's log, which shows the simulated clock.
# Usage: BUILD=build SRC=. full_day.sh
source "$(dirname "$0")/lib.sh"
command -v faketime >/dev/null || { echo "FAIL: faketime is not installed (scripts/setup.sh installs it)"; exit 1; }
speed=180
today=$(date +%Y-%m-%d)  # the simulated day's local date (the faked clock starts at 05:00 on it)

start_broker
start_sim --scenario "$SRC/config/demo-day.csv" --speed "$speed" --capacity-wh 20000 --soc 38 --internal-ohm 0.01 \
  --sensor-period 1
site_config "$SRC/config/demo.yaml" "$WORK/shackd.db" "$MQTT_PORT" -e 's/timeout_ms: 1000/timeout_ms: 5000/' >"$WORK/day.yaml"
printf 'relay_timing:\n  confirm_s: 60\n' >>"$WORK/day.yaml"   # faked seconds
spy 'cmnd/+/POWER1'
TZ=America/Los_Angeles start_daemon "$WORK/day.yaml" faketime -f "@$today 05:00:00 x$speed" ||
  { cat "$WORK/shackd.log"; exit 1; }

# Wait for simulated 13:45 (8.75 h / 180 = 175 s), bounded.
wait_for "simulated 13:45" 300 "tail -n 200 '$WORK/shackd.log' | grep -qE '^1[3-9]:[4-5][0-9]:|^1[4-9]:'" || true
wait_for "the day's second dump-load stop or 14:00" 60 "grep -qE '^1[4-9]:' '$WORK/shackd.log'" || true

at() {  # at LOAD STATE NTH: the simulated HH:MM of the NTH transition of LOAD to STATE
  grep -E "info: $1: $2 " "$WORK/shackd.log" | sed -n "${3}p" | cut -c1-5
}
within() {  # within NAME TIME FROM TO
  if [[ -n $2 && ! $2 < $3 && ! $2 > $4 ]]; then ok; else bad "$1 at '${2:-never}', expected $3-$4"; fi
}
# The primary is in aggressive mode with its start at the site's restart threshold (50.0 V): no
# mode starts it lower, so it waits out the cold night at 49.6 V instead of draining the bank to
# its 47 V stop, and starts once the sun has charged the bank.
within "the Main Room heater heats on solar" "$(at 'Main Room heater' ON 1)" 07:00 08:45
within "the primary starts as the sun charges the bank" "$(at 'Primary S21\+' ON 1)" 08:15 10:15
check "the primary did not run in the night" '[[ -z $(at "Primary S21\+" OFF 1) || $(at "Primary S21\+" OFF 1) > 10:00 ]]'
heater_starts=$(grep -cE "info: Main Room heater: ON " "$WORK/shackd.log")
check "the Main Room heater started at most twice (no flapping at voltage_low): $heater_starts" '[[ $heater_starts -le 2 ]]'
within "the dump load starts on midday surplus" "$(at 'Dump Load S19 #1' ON 1)" 10:15 12:45
within "the dump load stops for the cloud" "$(at 'Dump Load S19 #1' OFF 1)" 12:15 13:30
check "the stop names solar or surplus" "grep -E 'Dump Load S19 #1: OFF' '$WORK/shackd.log' | head -1 | grep -qE 'solar|surplus'"

# The broker saw the same story, as commands: collapse resends, drop the boot's initial OFFs.
story=$(awk '$1 ~ /primary_s21|dump_s19_1/ { if ($0 != last[$1]) { print $1, $2; last[$1] = $0 } }' "$WORK/spy.log" |
  awk '!(seen[$1]++ == 0 && $2 == "OFF")' | tr '\n' ';')
expected="cmnd/primary_s21/POWER1 ON;cmnd/dump_s19_1/POWER1 ON;cmnd/dump_s19_1/POWER1 OFF;"
check "the commands on the broker, in order (got: $story)" '[[ $story == "$expected"* ]]'
check "every command is ON or OFF" '! grep -vqE " (ON|OFF)$" "$WORK/spy.log"'

# Replay (issue 12, point 7): the rules run again over the cycle journal of the day just recorded
# make every switching the daemon made, within one cycle.
replay() { "$BUILD/shackd" replay --config "$1" --since 2000-01-01T00:00:00Z --until 2100-01-01T00:00:00Z "${@:2}" 2>&1; }
out=$(replay "$WORK/day.yaml"); rc=$?
check "the replay of the recorded day agrees with the record (exit $rc)" \
  '[[ $rc -eq 0 ]] && grep -q "the replay agrees with the record: every switching within one cycle" <<<"$out"'
check "the replay ran the journal, not minute averages" 'grep -qE "^replaying [0-9]+ cycles of the cycle journal" <<<"$out"'
check "the primary's start and hours, recorded and replayed" 'grep -qE "^Primary S21\+ +[0-9.]+ h +1 st +[0-9.]+ h +1 st" <<<"$out"'
[[ $rc -eq 0 ]] || echo "$out" | tail -20
out=$(replay "$WORK/day.yaml" --set "miners.Dump Load S19 #1.start_voltage=57.5"); rc=$?
check "what if: the dump load with a start it never reaches does not start" \
  '[[ $rc -eq 0 ]] && grep -qE "^Dump Load S19 #1 +[0-9.]+ h +[1-9] st +[0-9.]+ h +[1-9] st +0\.00 h +0 st" <<<"$out"'
# The comparison can fail: a record moved by ten minutes is a difference, named.
sqlite3 "$WORK/shackd.db" ".backup '$WORK/moved.db'"
sqlite3 "$WORK/moved.db" "UPDATE events SET at = strftime('%Y-%m-%dT%H:%M:%SZ', at, '+10 minutes')
  WHERE id = (SELECT min(id) FROM events WHERE kind = 'actuation' AND load_id = 'primary_s21')"
sed "s|$WORK/shackd.db|$WORK/moved.db|" "$WORK/day.yaml" >"$WORK/moved.yaml"
out=$(replay "$WORK/moved.yaml"); rc=$?
check "a record that the replay does not reproduce is named (exit $rc)" \
  '[[ $rc -eq 1 ]] && grep -qE "Primary S21\+: switching 1: recorded ON at .*, replay ON at" <<<"$out"'

# The day as a picture (`shackd report`): every switch in the events table is in it, at its local
# time with its reason, and the PNG renders. The daemon is still running (a faked second is 5.6 ms),
# so the report and the check read one snapshot: a switch recorded between the two is not a miss.
sqlite3 "$WORK/shackd.db" ".backup '$WORK/report.db'"
sed "s|$WORK/shackd.db|$WORK/report.db|" "$WORK/day.yaml" >"$WORK/report.yaml"
out=$("$BUILD/shackd" report --config "$WORK/report.yaml" --day "$today" --out "$WORK/day.png" 2>&1); rc=$?
check "shackd report wrote the day (exit $rc: $out)" '[[ $rc -eq 0 && -s $WORK/day.svg ]]'
check "the PNG is a PNG" '[[ $(head -c 4 "$WORK/day.png" | tail -c 3) == PNG ]]'
switches=0 missing=""
while IFS='|' read -r at on reason; do
  [[ -n $at ]] || continue
  hm=$(TZ=America/Los_Angeles date -d "$at" +%H:%M)
  word=OFF; [[ $on == 1 ]] && word=ON
  switches=$((switches + 1))
  grep -qF ">$hm $word $reason</text>" "$WORK/day.svg" || missing+=" $hm $word $reason;"
done < <(sqlite3 "$WORK/report.db" "SELECT at, commanded_on, reason FROM events WHERE kind = 'actuation' AND
  at >= strftime('%Y-%m-%dT%H:%M:%SZ', '$today 08:00:00') ORDER BY id")
check "every one of the day's $switches switches is in the picture, at its time with its reason${missing:+ (missing:$missing)}" \
  '[[ $switches -ge 3 && -z $missing ]]'
[[ -n ${REPORT_OUT:-} ]] && cp "$WORK/day.png" "$WORK/day.svg" "$WORK/report.db" "$WORK/report.yaml" "$REPORT_OUT/"

[[ $failed -eq 0 ]] || { echo "--- shackd log"; grep -E "info: .*: (ON|OFF)|warn" "$WORK/shackd.log" | head -40; }
finish
