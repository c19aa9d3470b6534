#!/usr/bin/env bash
# shackd's CPU per cycle against a floor (issue 44): the real shackd (both devices on the
# simulator, 6 relays, 2 sensors, history on) and build/bench/core_floor (the same Modbus reads
# with bare libmodbus, the same subscriptions and three per-cycle messages of the same sizes with
# a bare libmosquitto client, nothing else) run side by side against the same simulator and broker at the same
# interval, half an interval apart (bench/core_floor.cpp), so that the machine's drift falls on both; CPU is every thread's, from
# /proc/<pid>/task/*/schedstat, over the same window. Printed: CPU per cycle of each and the ratio.
# Usage: bench/core_floor.sh [BUILD_DIR] [SECONDS] [INTERVAL_MS]   (default build, 60, 500)
set -uo pipefail
cd "$(dirname "$0")/.."
export BUILD=${1:-build} SRC=.
seconds=${2:-60}
interval_ms=${3:-500}
source tests/e2e/lib.sh
# shackd's own code is what differs from the floor (whose work is in Debian's -O2 libmodbus and
# libmosquitto): a tree configured without a build type compiles it at -O0, and measured 6.97x
# where the same commit built RelWithDebInfo measured 2.63x minutes later (2026-11-28, load 5.8
# and 7.3; issue 57).
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD/CMakeCache.txt" 2>/dev/null)
case $build_type in
  Release | RelWithDebInfo) ;;
  *) echo "WARNING: $BUILD is built with CMAKE_BUILD_TYPE='$build_type', not optimized: the ratio says little" \
       "(scripts/build.sh $BUILD -DCMAKE_BUILD_TYPE=RelWithDebInfo, as CI and the package build it)" ;;
esac

start_broker
start_sim --battery-v 54.0 --sensor-period 30
write_config "$WORK/bench.yaml"
sed -i -e "s/interval_ms: [0-9]*/interval_ms: $interval_ms/" "$WORK/bench.yaml"
start_daemon "$WORK/bench.yaml" || { cat "$WORK/shackd.log"; exit 1; }
pid=$DAEMON_PID
sleep 3
# The sizes of shackd's own per-cycle messages, as the floor sends them.
size() { mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -t "$1" -C 1 -W 5 2>/dev/null | wc -c; }
state_b=$(size shack/state) decision_b=$(size shack/decision) loop_b=$(size shack/loop)
"$BUILD/bench/core_floor" "$WORK/bench.yaml" "$state_b" "$decision_b" "$loop_b" >>"$WORK/floor.log" 2>&1 &
floor=$!
PIDS+=($floor)
sleep 3

cpu_ns() { local t=0 ns; for f in /proc/$1/task/*/schedstat; do read -r ns _ <"$f" && t=$((t + ns)); done; echo $t; }
threads() { for f in /proc/$1/task/*; do echo "$(basename "$f") $(tr " " _ <"$f/comm") $(awk '{print $1}' "$f/schedstat")"; done | sort; }
threads "$pid" >"$WORK/threads0"; threads "$floor" >>"$WORK/threads0"
s0=$(cpu_ns "$pid") f0=$(cpu_ns "$floor") t0=$(date +%s.%N)
sleep "$seconds"
s1=$(cpu_ns "$pid") f1=$(cpu_ns "$floor") t1=$(date +%s.%N)
threads "$pid" >"$WORK/threads1"; threads "$floor" >>"$WORK/threads1"
daemon_alive "during the measurement" || exit 1
kill -0 "$floor" || { echo "FAIL: core_floor ended"; cat "$WORK/floor.log"; exit 1; }
python3 - "$s0" "$s1" "$f0" "$f1" "$t0" "$t1" "$interval_ms" "$state_b" "$decision_b" "$loop_b" <<'EOF'
import sys
s0, s1, f0, f1 = (int(x) for x in sys.argv[1:5])
t0, t1, interval_ms = float(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])
cycles = (t1 - t0) * 1000 / interval_ms
shackd, floor = (s1 - s0) / cycles / 1e6, (f1 - f0) / cycles / 1e6
print("core_floor: %.0f s side by side, %.0f ms interval, %.0f cycles each; messages %s/%s/%s bytes"
      % (t1 - t0, interval_ms, cycles, sys.argv[8], sys.argv[9], sys.argv[10]))
print("  shackd:  %.3f ms CPU per cycle (every thread)" % shackd)
print("  floor:   %.3f ms CPU per cycle (bare libmodbus + libmosquitto)" % floor)
print("  ratio:   %.2fx the floor (aim: within 2x)" % (shackd / floor))
EOF
if [[ -n ${BENCH_THREADS:-} ]]; then
  # Per thread over the window, in µs per cycle: tid, name, share.
  cycles=$(python3 -c "print(($t1 - $t0) * 1000 / $interval_ms)")
  join <(sort "$WORK/threads0") <(sort "$WORK/threads1") | awk -v c="$cycles" -v sp="$pid" '{printf "  thread %s %s: %.1f us per cycle\n", $1, $2, ($5 - $3) / c / 1000}'
fi
