#!/usr/bin/env bash
# Helpers for the end-to-end tests: real mosquitto, real shackd-sim, real shackd, on loopback.
# Every wait is bounded; a missing tool fails loudly.
set -uo pipefail
BUILD=${BUILD:?set BUILD to the build directory}
SRC=${SRC:?set SRC to the source directory}
source "$SRC/scripts/local-site.sh"
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
  [[ -n ${KEEP_WORK:-} ]] || rm -rf "$WORK"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { if eval "$2"; then ok; else bad "$1"; return 1; fi; }   # check NAME CONDITION (fails: status 1)
finish() { echo "$passed passed, $failed failed"; [[ $failed -eq 0 ]]; }

MQTT_PORT=$(free_port)

start_broker() {
  site_broker "$WORK" "$MQTT_PORT"; local rc=$?
  BROKER_PID=$SITE_BROKER_PID
  PIDS+=("$BROKER_PID")
  [[ $rc -eq 0 ]] || { echo "FAIL: mosquitto did not start"; exit 1; }
}

# start_sim [extra shackd-sim args...]: the GX, the Sol-Ark and six Tasmota relays on MQTT.
start_sim() {
  site_sim "$BUILD/shackd-sim" "$WORK" "$MQTT_PORT" --internal-ohm 0 --house-w 500 --sensor-period 1 "$@"; local rc=$?
  SIM_PID=$SITE_SIM_PID
  PIDS+=("$SIM_PID")
  [[ $rc -eq 0 ]] || { cat "$WORK/sim.out"; echo "FAIL: the simulator did not start"; exit 1; }
}
sim() { site_sim_cmd "$@"; }  # a command to the simulator
# simv NAME: NAME's value (battery_a, pv_victron_w, dvcc, ...) in a status line the simulator
# writes after this call: waits for that line (10 s at most), and says nothing when none came, so
# that a check comparing it fails rather than reading an old line or an empty one as 0.
simv() {
  local before i
  before=$(grep -ac '^battery_v=' "$WORK/sim.out" || true)
  sim status
  for ((i = 0; i < 100; i++)); do
    (($(grep -ac '^battery_v=' "$WORK/sim.out" || true) > before)) && break
    sleep 0.1
  done
  (($(grep -ac '^battery_v=' "$WORK/sim.out" || true) > before)) || return 1
  grep -a '^battery_v=' "$WORK/sim.out" | tail -1 | sed -nE "s/(^|.*[ ])$1=(-?[0-9.]+).*/\2/p"
}

# The primary's miner line from the simulator's status, once it has printed a new one.
miner_line() {
  local n
  n=$(grep -ac '^miner.primary_s21 powered' "$WORK/sim.out")
  sim status
  wait_for "the simulator's status" 5 "(( \$(grep -ac '^miner.primary_s21 powered' '$WORK/sim.out') > n ))" || return 1
  grep -a '^miner.primary_s21 powered' "$WORK/sim.out" | tail -1
}
field() { sed -nE "s/.* $1=([^ ]+).*/\1/p" <<<"$2"; }  # field NAME LINE

# write_config FILE [TEMPLATE]: the e2e config (tests/e2e/e2e.yaml, or TEMPLATE) with this run's
# ports and database ($DB_PATH, or $WORK/shackd.db); ${SCHEDULE} and ${OUTSIDE} from the same-named
# variables ("" and true by default).
write_config() {
  site_config "${2:-$SRC/tests/e2e/e2e.yaml}" "${DB_PATH:-$WORK/shackd.db}" "$MQTT_PORT" \
    -e "s|\${SCHEDULE}|${SCHEDULE:-}|" -e "s|\${OUTSIDE}|${OUTSIDE:-true}|" >"$1"
}

start_daemon() {  # start_daemon CONFIG [prefix command, e.g. faketime ...]
  local config=$1; shift
  # The log is shared by every process a test starts: this one's lines begin after the last one's.
  DAEMON_LOG_FROM=$(( $(cat "$WORK/shackd.log" 2>/dev/null | wc -l) + 1 ))
  # Under ASan, faketime's LD_PRELOAD puts libfaketime before the ASan runtime; allow it.
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
    "$@" "$BUILD/shackd" run --config "$config" >>"$WORK/shackd.log" 2>&1 &
  DAEMON_PID=$!
  PIDS+=("$DAEMON_PID")
  wait_for "shackd's first decision" 15 "daemon_log | grep -q 'first decision' || ! kill -0 $DAEMON_PID 2>/dev/null" &&
    daemon_alive "before its first decision"
}
daemon_log() { tail -n +"${DAEMON_LOG_FROM:-1}" "$WORK/shackd.log"; }  # this process's lines
# thread_names: the names of shackd's threads (its main thread's first), one a line.
thread_names() { for t in /proc/"$DAEMON_PID"/task/*; do cat "$t/comm" 2>/dev/null; done; }
# threads_named WHAT NAME...: every thread but the main one has a name of its own (issue 57: `top -H`
# showed six "shackd"), and each NAME (a prefix: "poll ") is among them.
threads_named() {
  local what=$1; shift
  local names main others n
  names=$(thread_names)
  main=$(cat /proc/"$DAEMON_PID"/comm 2>/dev/null)
  others=$(for t in /proc/"$DAEMON_PID"/task/*; do [[ ${t##*/} == "$DAEMON_PID" ]] || cat "$t/comm" 2>/dev/null; done)
  echo "measured: $what: shackd's threads: $(tr '\n' ',' <<<"$names" | sed 's/,$//')"
  check "$what: no thread but the main one is named '$main'" '! grep -qxF -- "$main" <<<"$others"'
  for n in "$@"; do
    check "$what: a thread named '$n...'" 'grep -q -- "^$n" <<<"$names"'
  done
}
# daemon_alive WHEN: fails, with the exit status and this process's last lines, if shackd ended.
daemon_alive() {
  kill -0 "$DAEMON_PID" 2>/dev/null && return 0
  local rc; wait "$DAEMON_PID" 2>/dev/null; rc=$?
  bad "shackd (pid $DAEMON_PID) ended $1, with status $rc; its last lines:"
  daemon_log | tail -20 | sed 's/^/    /'
  return 1
}

# spy TOPIC...: record every message (one line each: "topic payload") in $WORK/spy.log
spy() {
  local args=()
  for t in "$@"; do args+=(-t "$t"); done
  # spy/alive too: spy_alive proves the listener is still there before a "nothing was sent" check.
  mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -v -t spy/alive "${args[@]}" >>"$WORK/spy.log" 2>/dev/null &
  PIDS+=($!)
  SPY_PID=$!
  sleep 0.3
}

# spy_alive: the spy still listens: a marker published now reaches spy.log within 5 s. Everything
# published before the marker (on one connection, at QoS 0, in order) has reached it too.
SPY_NONCE=0
spy_alive() {
  SPY_NONCE=$((SPY_NONCE + 1))
  local marker="spy/alive $$-$SPY_NONCE"
  mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -t spy/alive -m "$$-$SPY_NONCE" 2>/dev/null
  local deadline_ms=$(( $(date +%s%3N) + 5000 ))
  while (( $(date +%s%3N) < deadline_ms )); do
    grep -qxF "$marker" "$WORK/spy.log" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# absent NAME TEXT: nothing containing TEXT was recorded by the spy, and the spy is alive to say so
# (a "nothing happened" check that passes when its listener died is no check).
absent() {
  if ! spy_alive; then bad "$1: the spy (mosquitto_sub) is not listening, so its silence proves nothing"; return 1; fi
  if grep -q -- "$2" "$WORK/spy.log"; then bad "$1"; return 1; fi
  ok
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

# check_within NAME SECONDS CONDITION: a check on something published a moment after what the
# test last saw (a retained reason after its relay command), polled and bounded.
check_within() { wait_for "$@" && ok; }

retained() {  # retained TOPIC: the retained payload on TOPIC, or nothing
  mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -t "$1" -C 1 -W 2 2>/dev/null
}
