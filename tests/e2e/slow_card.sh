#!/usr/bin/env bash
# A tired SD card, from the outside (issue 44): the real shackd against shackd-sim and mosquitto,
# with every pwrite/pwrite64/fsync/fdatasync it makes taking 3 s for 60 s (tests/e2e/slow_io/,
# preloaded; the red team used strace's fault injection for the same calls). Asserted:
#   cadence   the watchdog pings, one a cycle right after the relays, keep the interval: p99 of
#             their intervals <= interval + 100 ms, none missing; the loop counts no missed tick;
#   safety    the OFF at a shutdown crossing reaches the relay within one cycle (and a poll);
#   history   once the card is quick again, the database holds every event this process recorded,
#             or the loop counts those it had to drop.
# The figures are printed (docs/development.md, "Reliability").
# Usage: BUILD=build SRC=. SLOW_IO_LIB=.../libshackd_slow_io.so slow_card.sh
source "$(dirname "$0")/lib.sh"
SLOW_IO_LIB=${SLOW_IO_LIB:?set SLOW_IO_LIB to the built shim}
SLOW_MS=${SLOW_MS:-3000}
SLOW_S=${SLOW_S:-60}
INTERVAL_S=1

start_broker
start_sim --battery-v 54.0
DB_PATH="$WORK/shackd.db"
write_config "$WORK/shackd.yaml" "$SRC/tests/e2e/matrix.yaml"
python3 "$SRC/tests/e2e/slow_io/observe.py" notify "$WORK/notify.sock" "$WORK/pings.log" &
PIDS+=($!)
python3 "$SRC/tests/e2e/slow_io/observe.py" mqtt "$MQTT_PORT" "$WORK/spy.log" 'cmnd/#' 'shack/loop' 'shack/event' &
PIDS+=($!)
for ((i = 0; i < 100; i++)); do [[ -S $WORK/notify.sock ]] && break; sleep 0.05; done
check "the notify listener is up" '[[ -S $WORK/notify.sock ]]'
sleep 0.3  # mosquitto_sub subscribed

export NOTIFY_SOCKET=$WORK/notify.sock SHACKD_SLOW_IO_CTL=$WORK/slow SHACKD_SLOW_IO_MS=$SLOW_MS
start_daemon "$WORK/shackd.yaml" env LD_PRELOAD="$SLOW_IO_LIB" || { cat "$WORK/shackd.log"; exit 1; }
wait_for "the primary's ON" 15 "grep -q 'cmnd/primary_s21/POWER1 ON' '$WORK/spy.log'"
sleep 3

loop_json() { retained shack/loop; }
field() { sed -nE "s/.*\"$1\":([0-9.]+).*/\1/p" <<<"$2"; }
missed0=$(field missed "$(loop_json)")

# --- the card turns slow: every write 3 s.
T0=$(date +%s.%N)
touch "$WORK/slow"
sleep $((SLOW_S / 3))
CROSSED=$(date +%s.%N)
sim set battery_v 43.0   # under the 44.0 V shutdown: alarms and an actuation to store, an OFF to send
sleep 5
j_mid=$(loop_json)       # the crossing's records wait behind a write of several 3 s calls
sleep $((SLOW_S - SLOW_S / 3 - 5))
T1=$(date +%s.%N)
delayed=$(wc -l <"$WORK/slow.count" 2>/dev/null || echo 0)
j=$(loop_json)
rm -f "$WORK/slow"
daemon_alive "while the card was slow" || exit 1

check "the shim delayed the daemon's writes ($delayed held $SLOW_MS ms each)" '[[ $delayed -ge 3 ]]'
python3 "$SRC/tests/e2e/slow_io/observe.py" report "$WORK/pings.log" "$WORK/spy.log" $INTERVAL_S "$T0" "$T1" "$CROSSED" \
  >"$WORK/figures"
sed 's/^/  /' "$WORK/figures"
fig() { sed -nE "s/^$1=(.*)/\1/p" "$WORK/figures"; }
check "cadence: watchdog pings over ${SLOW_S} s of slow writes: $(fig pings) (want >= $((SLOW_S * 95 / 100)))" \
  '[[ $(fig pings) -ge $((SLOW_S * 95 / 100)) ]]'
check "cadence: p99 of the ping intervals $(fig ping_p99_s) s <= interval + 0.1 s" \
  "python3 -c 'import sys; sys.exit(0 if $(fig ping_p99_s) <= $INTERVAL_S + 0.1 else 1)'"
check "cadence: the longest gap between pings $(fig ping_max_s) s < 2 intervals" \
  "python3 -c 'import sys; sys.exit(0 if $(fig ping_max_s) < 2 * $INTERVAL_S else 1)'"
check "cadence: no tick missed (missed $missed0 -> $(field missed "$j"))" '[[ $(field missed "$j") -eq $missed0 ]]'
check "safety: the OFF at the shutdown crossing $(fig off_latency_s) s after it (within a cycle and a poll)" \
  "[[ $(fig off_latency_s) != none ]] && python3 -c 'import sys; sys.exit(0 if $(fig off_latency_s) <= $INTERVAL_S + 0.5 else 1)'"
check "the store was behind while slow (5 s after the crossing: store_queued $(field store_queued "$j_mid"), a write under way for $(field store_write_s "$j_mid") s)" \
  '[[ $(field store_queued "$j_mid") -gt 0 ]]'

# --- the card is quick again: the history catches up.
wait_for "the store's queue drained" 60 '[[ $(field store_queued "$(loop_json)") == 0 ]]'
sleep 2.5  # a cycle's events handed over after the last read
j=$(loop_json)
n=$(sqlite3 -cmd ".timeout 2000" "$DB_PATH" "SELECT count(*) FROM events")
lost=$(( $(field events_unstored "$j") ))
recorded=$(field events "$j")
check "history: $n events in the database, $recorded recorded by this process, $lost counted as dropped" \
  '[[ $((n + lost)) -ge $recorded ]]'
check "history: the OFF's actuation is stored" \
  '[[ $(sqlite3 "$DB_PATH" "SELECT count(*) FROM events WHERE kind = '"'"'actuation'"'"' AND commanded_on = 0") -ge 1 ]]'
check "history: integrity_check" '[[ $(sqlite3 "$DB_PATH" "PRAGMA quick_check") == ok ]]'
kill -TERM "$DAEMON_PID"
wait_for "shackd stopped" 20 "! kill -0 $DAEMON_PID 2>/dev/null"
finish
