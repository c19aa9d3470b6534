#!/usr/bin/env bash
# shackd as it runs on a site: both devices (the simulator), 6 relays, 2 MQTT sensors every 30 s, a 2 s interval, history
# on. Measures steady-state RSS, CPU per cycle, the latency from the poll that sees a threshold
# crossing to the relay command on the broker (timed by the simulator), and the time from start
# to the first state message. The figures go in the README ("Performance").
# Usage: bench/daemon_bench.sh [BUILD_DIR] [SECONDS]   (default build, 60)
# Two phases in one run, compared as ratios: both devices answering at once, then the Sol-Ark
# answering each request in 80 ms (RS485 behind a gateway) and the GX in 5 ms.
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

# Latency: flip the voltage across the primary's thresholds, `n` times.
measure_latency() {
  local n=$1 v=52.0 line
  lat=()
  for i in $(seq "$n"); do
    sleep 2.5
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
  median=$(printf '%s\n' "${lat[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "n/a")}')
  max=$(printf '%s\n' "${lat[@]}" | sort -n | tail -1)
}

# CPU per cycle (every thread, history included), over `seconds` of steady running.
cpu_ns() { local t=0; for f in /proc/$pid/task/*/schedstat; do read -r ns _ <"$f"; t=$((t + ns)); done; echo $t; }
measure_cpu() {
  local c0 c1
  c0=$(cpu_ns)
  sleep "$seconds"
  c1=$(cpu_ns)
  cpu_ms=$(awk -v c="$((c1 - c0))" -v n="$((seconds * 1000 / 2000))" 'BEGIN { printf "%.3f", c / n / 1e6 }')
}

measure_latency 10
fast_median=$median fast_max=$max fast_n=${#lat[@]}
measure_cpu
fast_cpu=$cpu_ms

sim fault solark slow 80
sim fault victron slow 5
measure_latency 10
slow_median=$median slow_max=$max slow_n=${#lat[@]}
measure_cpu
slow_cpu=$cpu_ms
rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
hwm_kb=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
if [[ -n ${BENCH_THREADS:-} ]]; then
  for f in /proc/$pid/task/*; do echo "  thread $(cat "$f/comm"): $(awk '{print $1/1e6}' "$f/schedstat") ms in all"; done
fi

echo "daemon_bench: both devices (simulator), 6 relays, 2 s interval, history on"
echo "  startup to first state message: ${startup_ms} ms"
echo "  devices answering at once:"
echo "    poll seeing a crossing -> relay command at the broker: median ${fast_median} us, max ${fast_max} us (${fast_n} samples)"
echo "    CPU per cycle: ${fast_cpu} ms ($((seconds / 2)) cycles)"
echo "  Sol-Ark 80 ms and GX 5 ms per request:"
echo "    poll seeing a crossing -> relay command at the broker: median ${slow_median} us, max ${slow_max} us (${slow_n} samples)"
echo "    CPU per cycle: ${slow_cpu} ms ($((seconds / 2)) cycles)"
awk -v s="$slow_cpu" -v f="$fast_cpu" 'BEGIN { printf "  CPU per cycle, slow / at once: %.2fx\n", s / f }'
echo "  RSS: ${rss_kb} kB now, ${hwm_kb} kB peak"
