#!/usr/bin/env bash
# Helpers for the end-to-end tests: real mosquitto, real shackd-sim, real shackd, on loopback.
# Every wait is bounded; a missing tool fails loudly.
set -uo pipefail
BUILD=${BUILD:?set BUILD to the build directory}
SRC=${SRC:?set SRC to the source directory}
source "$SRC/scripts/site-sim-args.sh"
for tool in /usr/sbin/mosquitto mosquitto_sub mosquitto_pub sqlite3 python3; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/setup.sh installs it)"; exit 1; }
done
WORK=$(mktemp -d /tmp/shackd-e2e-XXXXXX)
PIDS=()
passed=0 failed=0
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  # faketime runs the program as its child: kill whatever still names this run's directory.
  pkill -9 -f "$WORK" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { if eval "$2"; then ok; else bad "$1"; fi; }   # check NAME CONDITION
finish() { echo "$passed passed, $failed failed"; [[ $failed -eq 0 ]]; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MQTT_PORT=$(free_port)

start_broker() {
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$MQTT_PORT" >"$WORK/mosquitto.conf"
  /usr/sbin/mosquitto -c "$WORK/mosquitto.conf" >>"$WORK/mosquitto.log" 2>&1 &
  BROKER_PID=$!
  PIDS+=($BROKER_PID)
  for _ in $(seq 100); do
    (echo >/dev/tcp/127.0.0.1/"$MQTT_PORT") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "FAIL: mosquitto did not start"; exit 1
}

# start_sim [extra shackd-sim args...]: the GX, the Sol-Ark and six Tasmota relays on MQTT.
start_sim() {
  rm -f "$WORK/sim.in"; mkfifo "$WORK/sim.in"
  "$BUILD/shackd-sim" --victron-port "${VICTRON_PORT:-0}" --solark-port "${SOLARK_PORT:-0}" --internal-ohm 0 --house-w 500 \
    --mqtt "tcp://127.0.0.1:$MQTT_PORT" --sensor-period 1 "${SITE_SIM_ARGS[@]}" "$@" \
    <"$WORK/sim.in" >"$WORK/sim.out" 2>&1 &
  SIM_PID=$!
  PIDS+=($SIM_PID)
  exec 7>"$WORK/sim.in"
  wait_for "the simulator" 10 "grep -q '^mqtt connected' '$WORK/sim.out'" || exit 1
  local ready; ready=$(grep '^ready' "$WORK/sim.out")
  VICTRON_PORT=$(sed -E 's/.*victron=127.0.0.1:([0-9]+).*/\1/' <<<"$ready")
  SOLARK_PORT=$(sed -E 's/.*solark=127.0.0.1:([0-9]+).*/\1/' <<<"$ready")
}
sim() { echo "$*" >&7; }  # a command to the simulator

# write_config FILE [TEMPLATE]: the e2e config (tests/e2e/e2e.yaml, or TEMPLATE) with this run's
# ports and database ($DB_PATH, or $WORK/shackd.db); ${SCHEDULE} and ${OUTSIDE} from the same-named
# variables ("" and true by default).
write_config() {
  sed -e "s|\${DB}|${DB_PATH:-$WORK/shackd.db}|" -e "s|\${VICTRON_PORT}|$VICTRON_PORT|" -e "s|\${SOLARK_PORT}|$SOLARK_PORT|" \
    -e "s|\${MQTT_PORT}|$MQTT_PORT|" -e "s|\${SCHEDULE}|${SCHEDULE:-}|" -e "s|\${OUTSIDE}|${OUTSIDE:-true}|" \
    "${2:-$SRC/tests/e2e/e2e.yaml}" >"$1"
}

start_daemon() {  # start_daemon CONFIG [prefix command, e.g. faketime ...]
  local config=$1; shift
  # Under ASan, faketime's LD_PRELOAD puts libfaketime before the ASan runtime; allow it.
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
    "$@" "$BUILD/shackd" run --config "$config" >>"$WORK/shackd.log" 2>&1 &
  DAEMON_PID=$!
  PIDS+=($DAEMON_PID)
  wait_for "shackd's first decision" 15 "grep -q 'first decision' '$WORK/shackd.log'"
}

# spy TOPIC...: record every message (one line each: "topic payload") in $WORK/spy.log
spy() {
  local args=()
  for t in "$@"; do args+=(-t "$t"); done
  mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -v "${args[@]}" >>"$WORK/spy.log" 2>/dev/null &
  PIDS+=($!)
  sleep 0.3
}

# wait_for WHAT SECONDS CONDITION: poll a condition every 50 ms, bounded.
wait_for() {
  local what=$1 secs=$2 cond=$3
  # Bounded by the clock, not a count: a condition that itself takes time (mosquitto_sub -W)
  # must not stretch the bound.
  local deadline_ms=$(( $(date +%s%3N) + secs * 1000 ))
  while :; do
    eval "$cond" && return 0
    (( $(date +%s%3N) < deadline_ms )) || break
    sleep 0.05
  done
  bad "waited ${secs}s for $what"
  return 1
}

retained() {  # retained TOPIC: the retained payload on TOPIC, or nothing
  mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -t "$1" -C 1 -W 2 2>/dev/null
}
