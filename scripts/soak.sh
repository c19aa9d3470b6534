#!/usr/bin/env bash
# The accelerated soak: shackd against shackd-sim (the demo's day, repeated daily) and a loopback
# mosquitto, DAYS simulated days at SPEEDx real time (faketime), with random faults injected all
# along: a device offline, slow, sending garbage or closing idle connections, a relay that does
# not answer, the broker restarting, SIGHUP. At the end it reports RSS at the start and the end,
# missed cycles, relay toggles per load per day against what the profiles allow, the database's
# size and the bytes shackd wrote. Exits 1 when a limit below is broken.
# Usage: scripts/soak.sh [DAYS] [SPEED]       (default 30 days at 1440x: about 30 minutes)
#        scripts/soak.sh 1 1440               (CI's short version)
# Missed cycles measure the machine as much as shackd: at 1440x a 2 s cycle is 1.4 ms of real
# time, and a tick more than half an interval late counts as missed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/local-site.sh
days=${1:-30}
speed=${2:-1440}
[[ $days =~ ^[0-9]+$ && $speed =~ ^[0-9]+$ && $days -ge 1 && $speed -ge 1 ]] ||
  { echo "soak: DAYS and SPEED must be whole numbers >= 1 (got '$days' '$speed')" >&2; exit 64; }
scripts/setup.sh
[ -x build/shackd ] && [ -x build/shackd-sim ] || scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ft_lib=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1)
[ -n "$ft_lib" ] || { echo "soak: libfaketime.so.1 not found (scripts/setup.sh installs faketime)" >&2; exit 1; }

work=$(mktemp -d /tmp/shackd-soak-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  pkill -9 -f "$work" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -n "${SOAK_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
mqtt_port=$(free_port)
start_broker() {
  site_broker "$work" "$mqtt_port" || { pids+=("$SITE_BROKER_PID"); echo "soak: mosquitto did not start" >&2; exit 1; }
  broker=$SITE_BROKER_PID
  pids+=("$broker")
}
start_broker

# The simulator is not under faketime: its scenario runs at --speed, repeated every day.
site_sim build/shackd-sim "$work" "$mqtt_port" --scenario config/demo-day.csv --speed "$speed" --repeat-s 86400 \
  --capacity-wh 20000 --soc 38 --internal-ohm 0.01 --sensor-period 0.05 ||
  { pids+=("$SITE_SIM_PID"); cat "$work/sim.out"; echo "soak: the simulator did not start" >&2; exit 1; }
pids+=("$SITE_SIM_PID")
sim() { site_sim_cmd "$@"; }

# The demo's site, with the timeouts and MQTT timers stretched by the speed-up (they are faked
# seconds): 30 s device timeouts are 21 ms of real time at 1440x.
site_config config/demo.yaml "$work/shackd.db" "$mqtt_port" -e 's/timeout_ms: 1000/timeout_ms: 30000/' \
  -e 's/keepalive_s: 1200/keepalive_s: 3600/' -e 's/client_id: shackd-demo/client_id: shackd-soak/' >"$work/soak.yaml"
printf 'relay_timing:\n  resend_s: 3600\n  confirm_s: 600\n' >>"$work/soak.yaml"
build/shackd check --config "$work/soak.yaml" >/dev/null

start_s=$(date +%s)
TZ=America/Los_Angeles LD_PRELOAD="$ft_lib" FAKETIME="@2026-01-05 05:00:00 x$speed" \
  build/shackd run --config "$work/soak.yaml" >"$work/shackd.log" 2>&1 &
pids+=($!)
daemon=$!
for _ in $(seq 200); do grep -q 'first decision' "$work/shackd.log" && break; sleep 0.05; done
grep -q 'first decision' "$work/shackd.log" || { tail "$work/shackd.log"; echo "soak: shackd did not start" >&2; exit 1; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$daemon/status"; }
total_real_s=$(python3 -c "print($days * 86400 / $speed)")
echo "soak: $days simulated days at ${speed}x: $(python3 -c "print(round($total_real_s / 60, 1))") minutes; work dir $work"

# Warm-up: one simulated hour, then the starting RSS.
sleep "$(python3 -c "print(3600 / $speed)")"
rss_start=$(rss_kb)

# Random faults until the end, each lasting a few simulated minutes to an hour.
RANDOM=${SOAK_SEED:-42}
faults=0
end=$(python3 -c "import time; print(time.time() + $total_real_s - 3600 / $speed)")
relays=(primary_s21 dump_s19_1 heat_room_fan heat_room_heater main_room_fan main_room_heater)
while python3 -c "import sys, time; sys.exit(0 if time.time() < $end else 1)"; do
  # The next fault after 1 to 6 simulated hours (not past the end); it lasts 2 to 60 minutes.
  # (never negative: the end may pass between the loop's test and this line).
  gap=$(python3 -c "import time; print(round(max(0.0, min((3600 + $RANDOM % 18000) / $speed, $end - time.time())), 3))")
  sleep "$gap"
  python3 -c "import sys, time; sys.exit(0 if time.time() < $end else 1)" || break
  hold=$(python3 -c "print(round((120 + $RANDOM % 3480) / $speed, 3))")
  faults=$((faults + 1))
  case $((RANDOM % 8)) in
    0) sim fault victron offline; sleep "$hold"; sim fault victron online ;;
    1) sim fault solark offline; sleep "$hold"; sim fault solark online ;;
    2) sim fault solark slow 5; sleep "$hold"; sim fault solark slow 0 ;;
    3) sim fault victron garbage; sleep "$hold"; sim fault victron clear ;;
    4) sim fault victron idle-close 1; sim fault solark idle-close 1; sleep "$hold"; sim fault victron clear; sim fault solark clear ;;
    5) r=${relays[$((RANDOM % 6))]}; sim relay "$r" mute; sleep "$hold"; sim relay "$r" ok ;;
    6) kill -9 "$broker"; wait "$broker" 2>/dev/null || true; sleep "$hold"; start_broker ;;
    7) kill -HUP "$daemon" ;;
  esac
done
now=$(date +%s)
[ $((now - start_s)) -lt "${total_real_s%.*}" ] && sleep $(( ${total_real_s%.*} - (now - start_s) ))
rss_end=$(rss_kb)
expected=$(python3 -c "import time; print(int((time.time() - $start_s) * $speed / 2))")
written=$(awk '/^write_bytes/ {print $2}' "/proc/$daemon/io")
loop=$(mosquitto_sub -h 127.0.0.1 -p "$mqtt_port" -t shack/loop -C 1 -W 5 2>/dev/null || true)
kill -TERM "$daemon"
wait "$daemon" 2>/dev/null || true
field() { sed -nE "s/.*\"$1\":([0-9.]+).*/\1/p" <<<"$2"; }
summary=$(grep 'loop: ' "$work/shackd.log" | tail -1)
cycles=$(sed -nE 's/.*loop: ([0-9]+) cycles.*/\1/p' <<<"$summary")
missed=$(sed -nE 's/.* ([0-9]+) missed.*/\1/p' <<<"$summary")
db_bytes=$(cat "$work"/shackd.db* | wc -c)

echo
echo "== soak report: $days simulated days at ${speed}x, $faults random faults"
echo "RSS: start $((rss_start / 1024)).$(( (rss_start % 1024) * 10 / 1024 )) MB, end $((rss_end / 1024)).$(( (rss_end % 1024) * 10 / 1024 )) MB"
echo "cycles: $cycles of $expected expected (2 s ticks over the run), missed $missed, longest $(field longest_ms "$loop") ms"
echo "database: $db_bytes bytes; written by shackd: $written bytes ($(python3 -c "print(round($written / $days / 1e6, 2))") MB per day)"
echo "relay toggles per load per day (the profiles' ceiling: 24 x max_starts_per_hour x 2, or 86400 / (min_on_s + min_off_s) x 2):"
sqlite3 "$work/shackd.db" "
  WITH t AS (SELECT load_id, count(*) AS n FROM events WHERE kind = 'actuation' AND load_id IS NOT NULL GROUP BY load_id),
       m AS (SELECT name, relay_id, min_on_s, min_off_s, max_starts_per_hour FROM miner_profiles)
  SELECT printf('  %-24s %6.1f per day   ceiling %s', t.load_id, t.n * 1.0 / $days,
         CASE WHEN m.name IS NULL THEN '- (zone hysteresis)'
              ELSE printf('%.0f', min(CASE WHEN m.max_starts_per_hour > 0 THEN 48.0 * m.max_starts_per_hour ELSE 1e9 END,
                                      CASE WHEN m.min_on_s + m.min_off_s > 0 THEN 172800.0 / (m.min_on_s + m.min_off_s) ELSE 1e9 END)) END)
  FROM t LEFT JOIN m ON t.load_id = m.relay_id ORDER BY t.load_id;"
over=$(sqlite3 "$work/shackd.db" "
  SELECT count(*) FROM (SELECT load_id, count(*) AS n FROM events WHERE kind = 'actuation' GROUP BY load_id) t
  JOIN miner_profiles m ON t.load_id = m.relay_id
  WHERE m.max_starts_per_hour > 0 AND t.n * 1.0 / $days > 48.0 * m.max_starts_per_hour")
integrity=$(sqlite3 "$work/shackd.db" "PRAGMA integrity_check")
echo "integrity_check: $integrity"

status=0
[ "$integrity" = ok ] || { echo "FAIL: the database failed integrity_check"; status=1; }
[ "$over" -eq 0 ] || { echo "FAIL: $over load(s) toggled more than their profile allows"; status=1; }
# RSS: no growth beyond noise (2 MB: malloc arenas and SQLite's cache settle in the first hours).
[ $((rss_end - rss_start)) -le 2048 ] || { echo "FAIL: RSS grew by $(( (rss_end - rss_start) / 1024 )) MB"; status=1; }
[ -n "$cycles" ] && [ "$cycles" -ge $((days * 86400 / 2 * 8 / 10)) ] || { echo "FAIL: only $cycles cycles ran"; status=1; }
kill -0 "$daemon" 2>/dev/null && { echo "FAIL: shackd did not stop on SIGTERM"; status=1; }
exit $status
