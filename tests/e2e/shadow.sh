#!/usr/bin/env bash
# Issue 60: shadow mode beside another controller. The real shackd (loop.shadow: true), shackd-sim
# and mosquitto on loopback. "The other controller" is this script: it switches the primary's
# Tasmota with mosquitto_pub on its command topic, starting it 1 V too early (49.0 V, the
# primary's start is 50.0 V), and later switching it OFF while shackd would run it; a cold battery
# in between makes shackd want the chargers' limits at 0 A. Asserted:
# - nothing from shackd on cmnd/# (a spy proven alive: only this script's two commands are there),
#   and no Modbus write reached the simulator (its `writes=` counter, and DVCC and the Sol-Ark's
#   limit untouched);
# - the spells in shadow_disagreements (sqlite3) are those of shackd's own decisions, cycle by
#   cycle as it published them (shack/decision, every cycle) against the relay's reported state
#   (shack/load/primary_s21/observed): each spell's start and end within a cycle, its cycles
#   within two, its reason the decision's;
# - the start's log says loudly it switches nothing, switches are "would switch", the charge
#   block "would hold", no relay_unconfirmed, and the relay lane's gate never had to hold one
#   back; `shackd status` says SHADOW and the disagreement; <prefix>/shadow/<id> says it, retained.
# Usage: BUILD=build SRC=. shadow.sh
source "$(dirname "$0")/lib.sh"

now_ms() { date +%s%3N; }
start_broker
# Every relay command and shackd's decisions, stamped on arrival.
mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -F '%U %t %p' -t 'cmnd/#' -t shack/decision -t 'shack/load/+/observed' \
  >>"$WORK/stamped.log" 2>/dev/null &
PIDS+=($!)
spy 'cmnd/#'
start_sim --battery-v 49.0
write_config "$WORK/shackd.yaml"
sed -i 's|^  interval_ms: 250$|&\n  shadow: true|' "$WORK/shackd.yaml"
grep -q '^  shadow: true$' "$WORK/shackd.yaml" || { echo "FAIL: the config has no loop.shadow"; exit 1; }
start_daemon "$WORK/shackd.yaml" || { cat "$WORK/shackd.log"; finish; exit 1; }
DB=$WORK/shackd.db
other() { mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t "cmnd/primary_s21/POWER1" -m "$1"; }  # the other controller

check "the start says loudly that shackd switches nothing" 'daemon_log | grep -q "SHADOW MODE: shackd switches NOTHING"'
check "the first decision's STATUS says SHADOW" 'daemon_log | grep "first decision" | grep -q "SHADOW: switches nothing"'
check_within "shack/shadow says so, retained" 5 'grep -q "\"shadow\":true" <<<"$(retained shack/shadow)"'
check_within "Home Assistant is told of the shadow mode's entity" 5 \
  'grep -q "\"state_topic\":\"shack/shadow\"" <<<"$(retained "homeassistant/binary_sensor/+/shadow_mode/config")"'

# 1. The other controller starts the primary at 49.0 V: shackd would keep it OFF (below start).
sleep 1
other ON
wait_for "the relay reports ON" 10 "grep -q 'shack/load/primary_s21/observed ON' '$WORK/stamped.log'"
check_within "shack/shadow/primary_s21: would OFF, actual ON, below start voltage" 5 \
  'j=$(retained shack/shadow/primary_s21) && grep -q "\"agree\":false,\"would\":\"OFF\",\"actual\":\"ON\",\"reason\":{\"code\":41" <<<"$j"'
check_within "the spell is in the database, open" 5 \
  '[[ $(sqlite3 "$DB" "SELECT would_on || actual_on || reason_code || coalesce(end_ms, \"open\") FROM shadow_disagreements WHERE load_id = \"primary_s21\"") == 0141open ]]'
status=$("$BUILD/shackd" status --config "$WORK/shackd.yaml" 2>&1)
check "shackd status says SHADOW" 'grep -q "mode: SHADOW: shackd switches nothing" <<<"$status"'
check "shackd status names the disagreement" 'grep -q "shadow: Primary S21+ would be OFF, the site has it ON since .* (below start voltage" <<<"$status"'
check "shackd status sums the day's disagreements" 'grep -q "shadow, last 24 h: Primary S21+: 1 disagreement(s), .* min: would be ON while OFF 0.0 min, would be OFF while ON" <<<"$status"'

# 2. A cold battery: shackd would hold the chargers at 0 A; nothing is written.
sim set pv_w 6000
sim set battery_temp_c -3
check_within "the charge block is decided (published)" 10 'grep -q "\"block_charging\":true" <<<"$(retained shack/state)"'
check_within "the log says it would hold the limits" 5 'daemon_log | grep -q "shadow: would hold the chargers. limits at 0 A (nothing written)"'
sleep 1
check "DVCC untouched (no limit)" '[[ $(simv dvcc) == -1 ]]'
check "the Sol-Ark's limit untouched (185 A)" '[[ $(simv solark_max_charge_a) == 185 ]]'
sim set battery_temp_c 15
sim set pv_w 0

# 3. The battery rises over the primary's start: after its 1 s delay shackd would run it: they agree.
sim set battery_v 51.5
check_within "shack/shadow/primary_s21 agrees again" 10 'grep -q "\"agree\":true,\"would\":\"ON\",\"actual\":\"ON\"" <<<"$(retained shack/shadow/primary_s21)"'
check "the log says it would switch ON" 'daemon_log | grep -q "Primary S21+: would switch ON (shadow: nothing switched"'
sleep 1
# 4. The other controller stops it while shackd would run it.
other OFF
wait_for "the relay reports OFF" 10 "grep -q 'shack/load/primary_s21/observed OFF' '$WORK/stamped.log'"
check_within "shack/shadow/primary_s21: would ON, actual OFF" 5 \
  'grep -q "\"agree\":false,\"would\":\"ON\",\"actual\":\"OFF\"" <<<"$(retained shack/shadow/primary_s21)"'
sleep 2
check_within "shack/shadow_day: the day's figures, both ways, and shackd's start (the relay's first word, ON, is no start)" 5 \
  'j=$(retained shack/shadow_day) && grep -q "\"primary_s21\":{\"name\":\"Primary S21+\",\"rated_w\":3878,\"would_run\":{\"spells\":1,.*\"ran_instead\":{\"spells\":2,.*\"starts\":{\"would\":1,\"actual\":0}" <<<"$j"' ||
  retained shack/shadow_day

# Nothing from shackd reached a relay: the spy (alive) heard this script's two commands and no more.
absent "no state question or power-on setting from shackd" 'cmnd/.*/\(STATUS\|State\|PowerOnState\|Status\)'
cmnds=$(grep -c '^cmnd/' "$WORK/spy.log")
echo "measured: messages on cmnd/#: $cmnds (this script sent 2)"
check "only the other controller's two commands on cmnd/# ($cmnds)" '[[ $cmnds == 2 ]] && grep -qx "cmnd/primary_s21/POWER1 ON" "$WORK/spy.log" && grep -qx "cmnd/primary_s21/POWER1 OFF" "$WORK/spy.log"'
writes=$(simv writes)
echo "measured: Modbus writes the simulator saw: $writes"
check "no Modbus write reached the simulator (writes=$writes)" '[[ $writes == 0 ]]'
check "no relay_unconfirmed for relays shackd never commands" '! daemon_log | grep -q relay_unconfirmed'
check "the relay lane's gate never had to hold a message back" '! daemon_log | grep -q "shadow: a message to a relay was held back"'

# The stop closes the open spell; the retained documents are cleared.
kill -TERM "$DAEMON_PID"
wait_for "shackd's exit" 15 "! kill -0 $DAEMON_PID 2>/dev/null"
check "no spell left open after a clean stop" '[[ $(sqlite3 "$DB" "SELECT count(*) FROM shadow_disagreements WHERE end_ms IS NULL") == 0 ]]'
check "shack/shadow cleared at the stop" '[[ -z $(retained shack/shadow) ]]'
check "shack/shadow/primary_s21 cleared at the stop" '[[ -z $(retained shack/shadow/primary_s21) ]]'
check "shack/shadow_day cleared at the stop" '[[ -z $(retained shack/shadow_day) ]]'
check "Home Assistant's shadow entities removed at the stop" \
  '[[ -z $(retained "homeassistant/binary_sensor/+/shadow_mode/config") && -z $(retained "homeassistant/binary_sensor/+/primary_s21_shadow/config") ]]'

# The spells against shackd's decisions cycle by cycle (shack/decision, one a cycle) and the relay's
# reported state: the same spells, within a cycle (250 ms; 400 ms for the broker's and the
# spy's stamps), their cycles within two, the reason's code the decision's.
sqlite3 -separator ' ' "$DB" "SELECT load_id, start_ms, coalesce(end_ms, -1), would_on, actual_on, reason_code, cycles FROM shadow_disagreements WHERE load_id = 'primary_s21' ORDER BY start_ms" >"$WORK/spells.txt"
cat "$WORK/spells.txt" | sed 's/^/  spell: /'
python3 - "$WORK/stamped.log" "$WORK/spells.txt" <<'PY' >"$WORK/compare.out" 2>&1
import json, sys
stamped, spells_path = sys.argv[1], sys.argv[2]
# Each cycle's decision (shack/decision), and the relay's reported state as the same view said it:
# <prefix>/load/<id>/observed follows the view's decision, so a change applies from the decision
# just before it.
cycles = []  # [at_ms, on, code, actual]
for line in open(stamped, errors="replace"):
    parts = line.rstrip("\n").split(" ", 2)
    if len(parts) < 3:
        continue
    at_ms, topic, payload = float(parts[0]) * 1000, parts[1], parts[2]
    if topic == "shack/load/primary_s21/observed":
        if cycles:
            cycles[-1][3] = payload == "ON"
        continue
    if topic == "shack/decision":
        d = next(l for l in json.loads(payload)["loads"] if l["id"] == "primary_s21")
        cycles.append([at_ms, d["on"], d["reason"]["code"], cycles[-1][3] if cycles else None])
expected = []  # [start_ms, end_ms, would, actual, code, cycles]
cur = None
for at_ms, on, code, actual in cycles:
    key = None if actual is None or actual == on else (int(on), int(actual), code)
    if cur and key != tuple(cur[2:5]):
        cur[1] = at_ms
        expected.append(cur)
        cur = None
    if key and not cur:
        cur = [at_ms, None, *key, 0]
    if cur:
        cur[5] += 1
if cur:
    cur[1] = cycles[-1][0]
    expected.append(cur)
got = [l.split() for l in open(spells_path) if l.strip()]
print("expected (from shack/decision):", [[int(e[0]), int(e[1]), *e[2:]] for e in expected])
print("recorded:", got)
ok = len(got) == len(expected)
for e, g in zip(expected, got):
    start, end, would, actual, code, cycles = int(g[1]), int(g[2]), int(g[3]), int(g[4]), int(g[5]), int(g[6])
    same = (would, actual, code) == tuple(e[2:5]) and abs(start - e[0]) <= 400 and abs(cycles - e[5]) <= 2
    # The last spell ends at the stop, which publishes no decision: its end is after the last one seen.
    same = same and (abs(end - e[1]) <= 400 if e is not expected[-1] else end >= e[1] - 400)
    print("match" if same else "MISMATCH", e, g)
    ok = ok and same
print("OK" if ok and expected else "FAIL")
PY
sed 's/^/  /' "$WORK/compare.out"
check "the recorded spells are shackd's decisions against the relay's state, spell for spell" 'tail -1 "$WORK/compare.out" | grep -qx OK'
# Too early: below its start (41), then its start delay (20, a spell of its own: another reason);
# then stopped by the other controller while shackd would run it (1, running).
check "three spells for the primary: below start, start delay, then stopped while shackd would run it" \
  '[[ $(awk "{print \$4 \$5 \$6}" "$WORK/spells.txt" | tr "\n" " ") == "0141 0120 101 " ]]'
# The day's report counts them, per direction, with what they cost (issue 60 part 1's summary):
# two spells where the relay ran it and shackd would not, one where shackd would have run it.
"$BUILD/shackd" report --config "$WORK/shackd.yaml" --out "$WORK/day.svg" >"$WORK/report.out" 2>&1
sed 's/^/  report: /' "$WORK/report.out"
check "the report's shadow tally: shackd would have run it once, the relay ran it twice where shackd would not" \
  'grep -q "^  Primary S21+: shackd would have run it 1 time(s), .* it ran where shackd would not 2 time(s)" "$WORK/report.out"'
finish
