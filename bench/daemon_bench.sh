#!/usr/bin/env bash
# shackd as it runs on a site: both devices (the simulator), 6 relays, 2 MQTT sensors every 30 s, a 2 s interval, history
# on. Measures steady-state RSS, CPU per cycle, the latency from the poll that sees a threshold
# crossing to the relay command on the broker (timed by the simulator), and the time from start
# to the first state message. The figures go in the README ("Performance").
# Usage: bench/daemon_bench.sh [BUILD_DIR] [SECONDS]   (default build, 60)
set -uo pipefail
cd "$(dirname "$0")/.."
export BUILD=${1:-build} SRC=.
seconds=${2:-60}
source tests/e2e/lib.sh

start_broker
start_sim --battery-v 46.0 --sensor-period 30  # Tasmota reports every 300 s by default
write_config "$WORK/bench.yaml"
# Zero delays, a 2 s interval: the latency is the controller's own.
sed -i -e 's/interval_ms: 250/interval_ms: 2000/' -e 's/start_delay_s: 1/start_delay_s: 0/' \
  -e 's/stop_delay_s: 1/stop_delay_s: 0/' -e 's/electrical_stale_after_s: 2/electrical_stale_after_s: 30/' \
  "$WORK/bench.yaml"

# Startup: from exec to the first state message on the broker.
mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -t shack/state -C 1 -R >/dev/null 2>&1 &
sub=$!
sleep 0.3
t0=$(date +%s%N)
"$BUILD/shackd" run --config "$WORK/bench.yaml" >>"$WORK/shackd.log" 2>&1 &
pid=$!
PIDS+=($pid)
wait "$sub"
t1=$(date +%s%N)
startup_ms=$(( (t1 - t0) / 1000000 ))

# Latency: flip the voltage across the primary's thresholds, 10 times each way.
lat=()
v=52.0
for i in $(seq 20); do
  sleep 2.5
  : >"$WORK/sim.out.lat"
  sim set battery_v "$v"
  sim mark
  for _ in $(seq 100); do
    sleep 0.1
    sim latency
    line=$(grep -a 'latency' "$WORK/sim.out" | tail -1)
    [[ $line == latency_us=* ]] && break
  done
  [[ $line == latency_us=* ]] && lat+=("${line#latency_us=}")
  [[ $v == 52.0 ]] && v=46.0 || v=52.0
done

# CPU per cycle and RSS, over `seconds` of steady running (history included).
cpu_ns() { local t=0; for f in /proc/$pid/task/*/schedstat; do read -r ns _ <"$f"; t=$((t + ns)); done; echo $t; }
c0=$(cpu_ns)
sleep "$seconds"
c1=$(cpu_ns)
cycles=$(( seconds * 1000 / 2000 ))
rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
hwm_kb=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)

median=$(printf '%s\n' "${lat[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "n/a")}')
max=$(printf '%s\n' "${lat[@]}" | sort -n | tail -1)
echo "daemon_bench: both devices (simulator), 6 relays, 2 s interval, history on"
echo "  startup to first state message: ${startup_ms} ms"
echo "  poll seeing a crossing -> relay command at the broker: median ${median} us, max ${max} us (${#lat[@]} samples)"
awk -v c="$((c1 - c0))" -v n="$cycles" 'BEGIN { printf "  CPU per cycle: %.3f ms (%d cycles)\n", c / n / 1e6, n }'
echo "  RSS: ${rss_kb} kB now, ${hwm_kb} kB peak"
