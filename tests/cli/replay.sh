#!/usr/bin/env bash
# `shackd replay`: the rules over recorded telemetry, and what a threshold change would have done.
# Usage: replay.sh path/to/shackd path/to/source
set -uo pipefail
shackd=${1:?usage: replay.sh SHACKD SRC}
src=${2:?usage: replay.sh SHACKD SRC}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
passed=0 failed=0
check() { if eval "$2"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $1"; echo "$out"; fi; }

sed -e "s|\${DB}|$dir/shackd.db|" -e 's|\${VICTRON_PORT}|5020|' -e 's|\${SOLARK_PORT}|5021|' -e 's|\${MQTT_PORT}|1883|' \
  "$src/tests/e2e/e2e.yaml" >"$dir/shackd.yaml"
"$shackd" migrate --db "$dir/shackd.db" >/dev/null

# An hour of minutes: the battery climbs from 48.0 V to 53.9 V, then falls back below 47 V.
{
  echo "time,battery_v,pv_w,load_w,battery_temp_c,zone.Heat Room,zone.Main Room"
  for m in $(seq 0 59); do
    if ((m < 30)); then v=$(awk -v m="$m" 'BEGIN { printf "%.2f", 48 + m * 0.2 }')
    else v=$(awk -v m="$m" 'BEGIN { printf "%.2f", 53.8 - (m - 30) * 0.25 }'); fi
    printf '2026-06-21T%02d:%02d:00Z,%s,6000,1500,20,25,22\n' $((19 + m / 60)) $((m % 60)) "$v"
  done
} >"$dir/day.csv"

out=$("$shackd" replay --config "$dir/shackd.yaml" --from "$dir/day.csv" 2>&1); rc=$?
check "replay runs" '[[ $rc -eq 0 ]]'
check "the primary starts once the voltage reaches 50 V" 'grep -qE "Primary S21\+ +ON +running: 50\.[0-9]+ V" <<<"$out"'
check "and stops below 47 V" 'grep -qE "Primary S21\+ +off +below stop voltage: 46\.[0-9]+ V" <<<"$out"'

out=$("$shackd" replay --config "$dir/shackd.yaml" --from "$dir/day.csv" --set "miners.Primary S21+.start_voltage=52.5" 2>&1); rc=$?
check "replay with --set runs" '[[ $rc -eq 0 ]]'
check "the changed start shows" 'grep -qE "Primary S21\+ +ON +running: 52\.[5-9][0-9]* V" <<<"$out"'
check "the comparison table" 'grep -qE "^Primary S21\+ +[0-9.]+ h +1 st +[0-9.]+ h +1 st" <<<"$out"'

# A full bank in the afternoon: the chargers hold PV back (2 kW measured, 1.5 kW of house), the
# battery still charges at +3 A; after 20 minutes a cloud, and it discharges at -20 A.
{
  echo "time,battery_v,battery_a,pv_w,load_w,chargers_limiting,battery_temp_c,zone.Heat Room,zone.Main Room"
  for m in $(seq 0 39); do
    if ((m < 20)); then a=3 v=55.8; else a=-20 v=55.3; fi
    printf '2026-06-21T20:%02d:00Z,%s,%s,2000,1500,1,20,25,22\n' "$m" "$v" "$a"
  done
} >"$dir/full.csv"
dump=(--set "miners.Dump Load S19 #1.enabled=true")
out=$("$shackd" replay --config "$dir/shackd.yaml" --from "$dir/full.csv" "${dump[@]}" 2>&1); rc=$?
check "without probes the dump load waits for a surplus it cannot see" \
  '[[ $rc -eq 0 ]] && grep -qE "^Dump Load S19 #1 +0\.00 h +0 st +0\.00 h +0 st" <<<"$out"'
out=$("$shackd" replay --config "$dir/shackd.yaml" --from "$dir/full.csv" "${dump[@]}" \
  --set "miners.Dump Load S19 #1.probe_hidden_surplus=true" 2>&1); rc=$?
check "with probes it probes on the recorded chargers' word" \
  '[[ $rc -eq 0 ]] && grep -qE "13:02:00  Dump Load S19 #1 +ON +probing hidden surplus .*: 3\.0 A" <<<"$out"'
check "the probe holds a settle time later" 'grep -qE "13:03:00  Dump Load S19 #1 +ON +on hidden surplus" <<<"$out"'
check "the cloud stops it: the battery pays" 'grep -qE "13:2[0-9]:00  Dump Load S19 #1 +off +hidden surplus not there: -20\.0 A" <<<"$out"'
check "one start, beside none as configured" 'grep -qE "^Dump Load S19 #1 +0\.00 h +0 st +0\.[0-9]+ h +1 st" <<<"$out"'
check "the replay says what it cannot know" 'grep -q "not on whether the" <<<"$out"'
sed -i 's/,1,20,25,22$/,0,20,25,22/' "$dir/full.csv"
out=$("$shackd" replay --config "$dir/shackd.yaml" --from "$dir/full.csv" "${dump[@]}" \
  --set "miners.Dump Load S19 #1.probe_hidden_surplus=true" 2>&1); rc=$?
check "chargers not limiting: no probe" '[[ $rc -eq 0 ]] && ! grep -q probing <<<"$out"'

out=$("$shackd" replay --config "$dir/shackd.yaml" --from "$dir/day.csv" --set "miners.Primary S21+.stop_voltage=55" 2>&1); rc=$?
check "an invalid --set is refused with the rule" '[[ $rc -eq 64 ]] && grep -q "stop_voltage 55.0 must be below start_voltage" <<<"$out"'
out=$("$shackd" replay --config "$dir/shackd.yaml" --from "$dir/missing.csv" 2>&1); rc=$?
check "a missing file is named" '[[ $rc -eq 65 ]] && grep -q "missing.csv: cannot read it" <<<"$out"'

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
