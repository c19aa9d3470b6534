#!/usr/bin/env bash
# The fault matrix: real shackd, real shackd-sim, real mosquitto, one fault per row. Every row
# asserts three things:
#   cadence   the loop kept its interval (cycles counted against the clock, no tick missed),
#   safe      the loads ended in the state the policy names,
#   persisted nothing persisted is lost (every event this process recorded is in the database,
#             the queue drains, integrity_check passes).
# The relay rows (never confirms, wrong state), the SIGHUP storm and the broker outage run in
# process on the stepped clock: tests/daemon/fault_rows_test.cpp and reload_test.cpp.
# The database lives on a small tmpfs (the disk-full row fills it), mounted in a private mount
# namespace so it can never outlive the test: run as root.
# Usage: BUILD=build SRC=. fault_matrix.sh
# In a chroot (a minimal Debian root, where / is not a mount point) unshare cannot make the
# namespace private ("cannot change root filesystem propagation"): there the two rows that mount
# (disk full, read-only) say why they cannot run and are skipped, and every other row runs.
if [[ -z ${MATRIX_NS:-} ]]; then
  [[ $(id -u) -eq 0 ]] || { echo "FAIL: the fault matrix mounts a tmpfs for its disk-full row: run it as root"; exit 1; }
  if why=$(unshare --mount --propagation private true 2>&1); then
    exec unshare --mount --propagation private env MATRIX_NS=1 "$0" "$@"
  fi
  echo "SKIP: no private mount namespace here (unshare: ${why##*: }): the disk-full and read-only rows mount a filesystem, which could outlive the test; the other rows run"
  export MATRIX_NS=0
fi
source "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/dbfs"
if [[ $MATRIX_NS == 1 ]]; then
  mount -t tmpfs -o size=16m tmpfs "$WORK/dbfs" || { echo "FAIL: cannot mount a tmpfs"; exit 1; }
fi
DB_PATH="$WORK/dbfs/shackd.db"
TEMPLATE="$SRC/tests/e2e/matrix.yaml"
INTERVAL_S=1
EVENTS_BASE=0

db() { sqlite3 -cmd ".timeout 2000" "$DB_PATH" "$1"; }
state() { retained "shack/load/$1/state"; }
loop_json() { retained shack/loop; }
field() { sed -nE "s/.*\"$1\":([0-9.]+).*/\1/p" <<<"$2"; }  # field KEY JSON

healthy() { grep -q '"consecutive_failures":0' <<<"$(retained "shack/device/$1/health")"; }
begin_row() {
  ROW=$1
  echo "== $ROW"
  # Rows are independent: both devices read again (out of any reconnect backoff) before a row.
  wait_for "both devices healthy before the row" 30 'healthy victron && healthy solark'
  [[ -s $WORK/spy.log ]] && cp "$WORK/spy.log" "$WORK/spy-$(tr -c 'a-zA-Z0-9\n' _ <<<"$ROW").log"
  local j; j=$(loop_json)
  C0=$(field cycles "$j"); M0=$(field missed "$j"); T0=$(date +%s.%N)
  : >"$WORK/spy.log"
}

# cadence [speed]: cycles since begin_row against the time passed (x speed under faketime).
cadence() {
  local speed=${1:-1} j c1 m1 t1
  j=$(loop_json); c1=$(field cycles "$j"); m1=$(field missed "$j"); t1=$(date +%s.%N)
  local want; want=$(python3 -c "print(int(($t1 - $T0) * $speed / $INTERVAL_S * 0.85) - 1)")
  check "$ROW: cadence: $((c1 - C0)) cycles in $(python3 -c "print(round(($t1 - $T0) * $speed, 1))") s (want >= $want)" \
    '[[ $((c1 - C0)) -ge $want ]]'
  check "$ROW: cadence: no tick missed (missed $M0 -> $m1)" '[[ $m1 -eq $M0 ]]'
}

# persisted: once the queue is empty, the database holds every event of this process.
persisted() {
  local i j1 j2 n n2
  # Quiet means the same count of events in the loop's stats and in the database across more
  # than one cycle: the stats go out over MQTT asynchronously, the database commits at once, so
  # a single read of each can catch an event in one and not yet in the other.
  for ((i = 0; i < 20; i++)); do
    j1=$(loop_json); n=$(db "SELECT count(*) FROM events")
    sleep 1.2
    j2=$(loop_json); n2=$(db "SELECT count(*) FROM events")
    if [[ $(field store_queued "$j1") == 0 && $(field store_queued "$j2") == 0 && $n -eq $n2 &&
          $(field events "$j1") == "$(field events "$j2")" ]]; then
      check "$ROW: persisted: $n events in the database, $EVENTS_BASE + $(field events "$j1") recorded" \
        '[[ $n -eq $((EVENTS_BASE + $(field events "$j1"))) ]]'
      check "$ROW: persisted: integrity_check" '[[ $(db "PRAGMA quick_check") == ok ]]'
      return
    fi
    sleep 0.25
  done
  bad "$ROW: persisted: the store queue did not drain ($(loop_json))"
}

begin_daemon() {  # begin_daemon [prefix command...]: the events already in the database are the base
  EVENTS_BASE=$( [[ -f $DB_PATH ]] && db "SELECT count(*) FROM events" || echo 0)
  write_config "$WORK/shackd.yaml" "$TEMPLATE"
  # The retained topics still hold the last process's messages: clear the loop's, wait for ours.
  mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -r -n -t shack/loop
  start_daemon "$WORK/shackd.yaml" "$@" || { tail -30 "$WORK/shackd.log"; exit 1; }
  wait_for "this process's loop message" 15 '[[ -n $(loop_json) ]]' || daemon_log | tail -20 | sed 's/^/    /'
}
# A process that ended on its own before it was stopped is a failure of the row it ran in.
stop_daemon() {
  daemon_alive "during: ${ROW:-the start}" && { kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; }
  pkill -f "$WORK/shackd.yaml"
  # Gone, not just told: the next one would find the database still locked by this one (and two
  # controllers must never overlap). Bounded: a process that does not end fails the wait.
  wait_for "the stopped shackd to be gone" 20 '! pgrep -f "$WORK/shackd.yaml" >/dev/null'
}

start_broker
start_sim --battery-v 52.0
spy 'cmnd/#' 'shack/event' 'shack/state'
begin_daemon
wait_for "the primary ON" 15 '[[ $(state primary_s21) == ON ]]'

# ---------------------------------------------------------------------------------------------
begin_row "Victron offline"
sim fault victron offline
wait_for "the fallback alarm" 10 "grep -q voltage_fallback '$WORK/spy.log'"
sleep 4
check "$ROW: safe: the primary runs on the Sol-Ark's voltage" '[[ $(state primary_s21) == ON ]]'
absent "$ROW: safe: no OFF was sent" 'POWER1 OFF'
sim fault victron online
cadence; persisted

begin_row "Sol-Ark offline"
sim fault solark offline
sleep 5
check "$ROW: safe: the primary runs on the GX's voltage" '[[ $(state primary_s21) == ON ]]'
absent "$ROW: safe: no OFF was sent" 'POWER1 OFF'
sim fault solark online
cadence; persisted

begin_row "both offline"
sim fault victron offline; sim fault solark offline
wait_for "the primary OFF on stale voltage (stale_policy off)" 15 "grep -q 'cmnd/primary_s21/POWER1 OFF' '$WORK/spy.log'"
# (the reason is its own retained message, published after the command: wait for it, bounded)
check_within "$ROW: safe: the reason is stale_input" 5 'grep -q stale_input <<<"$(retained shack/load/primary_s21/reason)"'
sim fault victron online; sim fault solark online
wait_for "the primary back ON" 20 '[[ $(state primary_s21) == ON ]]'
cadence; persisted

begin_row "slow device (the Sol-Ark replies at 90 % of its 400 ms timeout)"
# The Sol-Ark behind an RS485 gateway is the slow one in the field. Each of its requests takes
# 360 ms, so a whole poll outlasts the cycle's deadline: the cycle goes on without it, the
# poll's result is taken by a later cycle, and the GX carries the voltage meanwhile.
sim fault solark slow 360
sleep 8
check "$ROW: safe: the primary stays ON" '[[ $(state primary_s21) == ON ]]'
absent "$ROW: safe: no OFF was sent" 'POWER1 OFF'
check "$ROW: the Sol-Ark is still read (no timeout)" 'healthy solark'
sim fault solark slow 0
cadence; persisted

begin_row "exception replies"
sim fault victron exception 0x0B   # gateway target device failed to respond
wait_for "the fallback alarm" 10 "grep -q voltage_fallback '$WORK/spy.log'"
sleep 3
check "$ROW: safe: the primary runs on the Sol-Ark's voltage" '[[ $(state primary_s21) == ON ]]'
sim fault solark exception 0x04
wait_for "the primary OFF with no voltage at all" 15 "grep -q 'cmnd/primary_s21/POWER1 OFF' '$WORK/spy.log'"
sim fault victron clear; sim fault solark clear
wait_for "the primary back ON" 20 '[[ $(state primary_s21) == ON ]]'
cadence; persisted

begin_row "garbage values (0xFFFF, 0x7FFF) and a wild jump"
sim fault victron garbage
wait_for "the garbage named in the log" 10 "grep -q 'outside its plausible range' '$WORK/shackd.log'"
sleep 3
check "$ROW: safe: the primary runs on the Sol-Ark's voltage" '[[ $(state primary_s21) == ON ]]'
check "$ROW: safe: the published voltage is not garbage" '[[ $(field battery_v "$(retained shack/state)" | cut -d. -f1) -lt 60 ]]'
sim fault victron clear
sim set battery_v 46.0
wait_for "the primary OFF at 46 V" 15 "grep -q 'cmnd/primary_s21/POWER1 OFF' '$WORK/spy.log'"
: >"$WORK/spy.log"
sim set battery_v 58.0; sleep 0.6; sim set battery_v 46.0   # one sample, shorter than start_delay_s
sleep 4
absent "$ROW: safe: a one-sample jump to 58 V starts nothing" 'POWER1 ON'
sim set battery_v 52.0
wait_for "the primary back ON" 20 '[[ $(state primary_s21) == ON ]]'
cadence; persisted

begin_row "gateway closing idle connections"
sim fault victron idle-close 1; sim fault solark idle-close 1
sleep 8
check "$ROW: safe: the primary stays ON" '[[ $(state primary_s21) == ON ]]'
absent "$ROW: safe: no OFF was sent" 'POWER1 OFF'
absent "$ROW: no voltage fallback (the GX is read on every cycle)" 'voltage_fallback'
sim fault victron clear; sim fault solark clear
cadence; persisted

begin_row "sensor sending malformed JSON"
heater_before=$(state main_room_heater)
for payload in '{"DS18B20":{"Temperature":' 'not json' '{"DS18B20":{"Temperature":"hot"}}' '[]' "$(head -c 300 /dev/urandom | tr -d '\0')"; do
  mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -t tele/main_room_temp/SENSOR -m "$payload"
done
sleep 3
check "$ROW: the bad payloads are named in the log" "grep -q 'main_room_temp\|DS18B20' '$WORK/shackd.log'"
check "$ROW: safe: the heater did not change" '[[ $(state main_room_heater) == "$heater_before" ]]'
check "$ROW: the zone keeps the sensor's real value (20 °C)" 'grep -qE "\"Main Room\":\{\"value\":20[,.]" <<<"$(retained shack/state)"'
check "$ROW: shackd is running" 'kill -0 $DAEMON_PID'
cadence; persisted

if [[ $MATRIX_NS != 1 ]]; then
  echo "SKIP: disk full under the database: it needs a tmpfs of its own (no private mount namespace here)"
else
  begin_row "disk full under the database"
  errors0=$(field store_errors "$(loop_json)")
  dd if=/dev/zero of="$WORK/dbfs/fill" bs=64k 2>/dev/null   # until ENOSPC
  sim set battery_v 46.0   # control goes on: an actuation while nothing can be written
  wait_for "the store_error alarm on MQTT" 20 "grep -q 'store_error' '$WORK/spy.log'"
  wait_for "the primary OFF while the disk is full" 15 "grep -q 'cmnd/primary_s21/POWER1 OFF' '$WORK/spy.log'"
  wait_for "the failed flush counted" 10 '[[ $(field store_errors "$(loop_json)") -gt $errors0 ]]'
  check "$ROW: the queue holds the events" '[[ $(field store_queued "$(loop_json)") -gt 0 ]]'
  rm -f "$WORK/dbfs/fill"
  sim set battery_v 52.0
  wait_for "the primary ON again" 20 '[[ $(state primary_s21) == ON ]]'
  cadence; persisted
  check "$ROW: the OFF made during the outage is in the database" \
    '[[ $(db "SELECT count(*) FROM events WHERE kind = '"'"'actuation'"'"' AND commanded_on = 0") -ge 1 ]]'
fi

begin_row "database locked by another process"
errors0=$(field store_errors "$(loop_json)")
offs0=$(db "SELECT count(*) FROM events WHERE kind = 'actuation' AND commanded_on = 0")
# The lock is held from the moment the locker says so until the row has seen a failed flush (or
# given up waiting for one, at most 40 s): a fixed hold raced the row on a loaded machine (the
# locker's start, the OFF and the flush each took seconds in a cold CI run, and the lock was gone
# before the flush that should fail).
rm -f "$WORK/locked" "$WORK/unlock"
python3 - "$DB_PATH" "$WORK/locked" "$WORK/unlock" <<'PY' &
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
deadline = time.monotonic() + 40
while not os.path.exists(sys.argv[3]) and time.monotonic() < deadline:
    time.sleep(0.05)
c.execute("ROLLBACK")
PY
LOCKER=$!
wait_for "the locker holding the database" 20 "[[ -e '$WORK/locked' ]]"
sim set battery_v 46.0
wait_for "the primary OFF while the database is locked" 15 "grep -q 'cmnd/primary_s21/POWER1 OFF' '$WORK/spy.log'"
wait_for "a failed (busy) flush" 15 '[[ $(field store_errors "$(loop_json)") -gt $errors0 ]]'
touch "$WORK/unlock"
wait "$LOCKER"
sim set battery_v 52.0
wait_for "the primary ON again" 20 '[[ $(state primary_s21) == ON ]]'
cadence; persisted
check "$ROW: the OFF made under the lock is in the database" \
  '[[ $(db "SELECT count(*) FROM events WHERE kind = '"'"'actuation'"'"' AND commanded_on = 0") -gt $offs0 ]]'

begin_row "SIGKILL mid-cycle, then a restart"
sleep 0.$((RANDOM % 10))    # somewhere inside a cycle
kill -9 "$DAEMON_PID"; pkill -9 -f "$WORK/shackd.yaml"; wait "$DAEMON_PID" 2>/dev/null
committed=$(db "SELECT count(*) FROM events")
check "$ROW: persisted: the killed database passes integrity_check" '[[ $(db "PRAGMA integrity_check") == ok ]]'
: >"$WORK/spy.log"
begin_daemon
check "$ROW: persisted: every committed event survived" '[[ $EVENTS_BASE -eq $committed ]]'
sleep 4
absent "$ROW: safe: no OFF after the restart (no flap)" 'cmnd/primary_s21/POWER1 OFF'
check "$ROW: safe: the primary is ON" '[[ $(state primary_s21) == ON ]]'
check "$ROW: the restored state was logged" "grep -q 'Primary S21+: restored ON' '$WORK/shackd.log'"
begin_row "after the restart"   # the cadence of the new process
sleep 4
cadence; persisted
stop_daemon

# ---------------------------------------------------------------------------------------------
# A wall clock jump of +1 h and back: the primary's schedule window lies an hour ahead. The jump
# opens it (schedules follow the wall clock), the start delay still runs its 2 s (durations are
# monotonic), the cadence is untouched; the jump back closes it.
FT_LIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1)
[[ -n $FT_LIB ]] || { bad "libfaketime.so.1 not found (package libfaketime)"; finish; exit 1; }
SCHEDULE="$(date -u -d '+50 min' +%H:%M)-$(date -u -d '+70 min' +%H:%M)" OUTSIDE=false
export SCHEDULE OUTSIDE
echo "+0" >"$WORK/faketime.rc"
begin_daemon env LD_PRELOAD="$FT_LIB" FAKETIME_TIMESTAMP_FILE="$WORK/faketime.rc" FAKETIME_CACHE_DURATION=1 \
  FAKETIME_DONT_FAKE_MONOTONIC=1
wait_for "the primary OFF outside its schedule" 15 '[[ $(state primary_s21) == OFF ]]'
begin_row "wall clock +1 h"
echo "+3600" >"$WORK/faketime.rc"
jumped=$(date +%s.%N)
wait_for "the primary ON in its window" 15 "grep -q 'cmnd/primary_s21/POWER1 ON' '$WORK/spy.log'"
on_after=$(python3 -c "import time; print(round(time.time() - $jumped, 1))")
check "$ROW: the start delay (2 s) still ran after the jump ($on_after s)" "python3 -c 'import sys; sys.exit(0 if $on_after >= 1.5 else 1)'"
sleep 2
cadence; persisted
begin_row "wall clock back 1 h"
echo "+0" >"$WORK/faketime.rc"
wait_for "the primary OFF outside its window again" 15 "grep -q 'cmnd/primary_s21/POWER1 OFF' '$WORK/spy.log'"
check_within "$ROW: the reason names the schedule" 5 'grep -q schedule <<<"$(retained shack/load/primary_s21/reason)"'
sleep 2
cadence; persisted
stop_daemon

# ---------------------------------------------------------------------------------------------
# A read-only database: an SD card's ext4 remounts itself read-only on an error (errors=remount-ro)
# while shackd has its files open. Here: an ext4 image on a loop device, the error raised through
# ext4's sysfs trigger. Control must go on and say so; what was on disk must come back after fsck.
# It runs last: the filesystem stays read-only until it is unmounted.
RO_IMG="$WORK/ro.img" RO_DIR="$WORK/rofs"
mkdir -p "$RO_DIR"
if [[ $MATRIX_NS != 1 ]]; then
  echo "SKIP: database read-only: it loop-mounts an ext4 image (no private mount namespace here)"
elif ! { truncate -s 32M "$RO_IMG" && mkfs.ext4 -q -F "$RO_IMG" &&
       mount -o loop,errors=remount-ro "$RO_IMG" "$RO_DIR"; } >"$WORK/rofs.err" 2>&1; then
  echo "SKIP: database read-only: no loop-mounted ext4 on this machine: $(tail -1 "$WORK/rofs.err")"
elif RO_DEV=$(basename "$(findmnt -n -o SOURCE "$RO_DIR")"); [[ ! -w /sys/fs/ext4/$RO_DEV/trigger_fs_error ]]; then
  echo "SKIP: database read-only: ext4's error trigger /sys/fs/ext4/$RO_DEV/trigger_fs_error is not writable here"
  umount "$RO_DIR"
else
  sqlite3 "$DB_PATH" ".backup '$RO_DIR/shackd.db'"
  DB_PATH="$RO_DIR/shackd.db" SCHEDULE="" OUTSIDE=true
  begin_daemon
  wait_for "the primary ON" 15 '[[ $(state primary_s21) == ON ]]'
  begin_row "database read-only (ext4 remounted read-only on an error)"
  wait_for "the store queue empty" 10 '[[ $(field store_queued "$(loop_json)") == 0 ]]'
  sync -f "$DB_PATH"
  on_disk=$(db "SELECT count(*) FROM events")
  errors0=$(field store_errors "$(loop_json)")
  echo 1 >"/sys/fs/ext4/$RO_DEV/trigger_fs_error"
  check "$ROW: the filesystem went read-only" 'findmnt -n -o OPTIONS "$RO_DIR" | grep -qE "(^|,)(ro|emergency_ro)(,|$)"'
  sim set battery_v 46.0   # control goes on: an actuation while nothing can be written
  wait_for "the store_error alarm on MQTT" 20 "grep -q 'store_error' '$WORK/spy.log'"
  wait_for "the primary OFF on a read-only database" 15 "grep -q 'cmnd/primary_s21/POWER1 OFF' '$WORK/spy.log'"
  wait_for "the failed flush counted" 10 '[[ $(field store_errors "$(loop_json)") -gt $errors0 ]]'
  check "$ROW: the queue holds the events" '[[ $(field store_queued "$(loop_json)") -gt 0 ]]'
  sleep 3
  cadence
  check "$ROW: shackd is running" 'kill -0 $DAEMON_PID'
  kill -TERM "$DAEMON_PID"
  check_within "$ROW: shackd stops on SIGTERM" 15 '[[ $(ps -o stat= -p "$DAEMON_PID") == Z* || -z $(ps -o stat= -p "$DAEMON_PID") ]]' ||
    kill -9 "$DAEMON_PID"
  wait "$DAEMON_PID"; rc=$?
  check "$ROW: exit code 0 ($rc)" '[[ $rc -eq 0 ]]'
  check "$ROW: the shutdown names what it could not write" "grep -q 'item(s) are lost' '$WORK/shackd.log'"
  umount "$RO_DIR"
  e2fsck -fy "$RO_IMG" >"$WORK/fsck.log" 2>&1; rc=$?
  check "$ROW: e2fsck repairs the filesystem (exit $rc)" '[[ $rc -le 1 ]]'
  mount -o loop "$RO_IMG" "$RO_DIR"
  check "$ROW: persisted: integrity_check after fsck" '[[ $(db "PRAGMA integrity_check") == ok ]]'
  check "$ROW: persisted: the $on_disk events on disk before the error survived" '[[ $(db "SELECT count(*) FROM events") -ge $on_disk ]]'
  umount "$RO_DIR"
fi

if [[ $failed -gt 0 ]]; then
  echo "--- shackd log (tail)"; tail -40 "$WORK/shackd.log"
  [[ -n ${KEEP_LOGS:-} ]] && mkdir -p "$KEEP_LOGS" && cp "$WORK"/*.log "$WORK"/*.out "$DB_PATH" "$KEEP_LOGS"/ 2>/dev/null
fi
umount "$WORK/rofs" "$WORK/dbfs" 2>/dev/null
finish
