#!/usr/bin/env bash
# "Try your site first" (docs/guide.md): an owner's own config (config/shackd.example.yaml with a
# Shelly Gen2 heater, an ESPHome fan, a Sol-Ark on RS485 and a broker with a password) served by
# `shackd-sim --site-from`, and shackd run on the trial config it writes. Every relay, in each of
# the five protocols, is switched and confirmed by its own protocol's report; nothing goes to the
# owner's real topics; the owner's file is untouched.
source "$(dirname "$0")/lib.sh"

# The owner's broker as the guide sets it up: a password, no anonymous clients, and the guide's
# ACL (the block after "<!-- acl:"), so that the trial works where the guide's broker admits it.
mosquitto_passwd -c -b "$WORK/passwd" shackd 'pa ss#1' >/dev/null 2>&1
awk '/^<!-- acl:/ { state = 1; next } state == 1 && /^```/ { state = 2; next } state == 2 && /^```/ { exit }
     state == 2 { print }' "$SRC/docs/guide.md" >"$WORK/acl"
check "the guide's ACL is found" '[[ $(grep -c "^user shackd" "$WORK/acl") -eq 1 ]]'
printf 'listener %s 127.0.0.1\nallow_anonymous false\npassword_file %s\nacl_file %s\npersistence false\n' "$MQTT_PORT" \
  "$WORK/passwd" "$WORK/acl" >"$WORK/mosquitto.conf"
[[ $(id -u) -eq 0 ]] && echo "user root" >>"$WORK/mosquitto.conf"  # else it cannot read the private work dir
/usr/sbin/mosquitto -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.log" 2>&1 &
PIDS+=($!)
wait_for "the broker" 5 "(echo >/dev/tcp/127.0.0.1/$MQTT_PORT) 2>/dev/null" || { finish; exit 1; }
printf '%s\n' 'pa ss#1' >"$WORK/mqtt.pass"
chmod 600 "$WORK/mqtt.pass"
sub() { mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -u shackd -P 'pa ss#1' "$@" 2>/dev/null; }
state() { sub -t "shack-try/load/$1/$2" -C 1 -W 2; }  # state LOAD state|observed: the retained value

# The owner's config: the example's site, their broker, a Shelly Gen2 heater in the heat room and
# an ESPHome fan, the Sol-Ark through a USB adapter, short start delays and stagger, a fast loop.
python3 - "$SRC/config/shackd.example.yaml" "$WORK/owner.yaml" "$MQTT_PORT" "$WORK" <<'PY'
import sys
src, out, port, work = sys.argv[1:]
t = open(src).read()
def sub(a, b):
    global t
    assert a in t, a
    t = t.replace(a, b, 1)
sub("uri: tcp://127.0.0.1:1883", f"uri: tcp://127.0.0.1:{port}\n  username: shackd\n  password_file: {work}/mqtt.pass\n ")
sub("path: /var/lib/shackd/shackd.db", f"path: {work}/owner.db")
sub("interval_ms: 2000", "interval_ms: 500")
sub("    transport: tcp ", "    transport: rtu\n    device: /dev/ttyUSB7\n    baud: 9600\n    #")
sub("    host: 192.168.1.60\n    port: 502\n", "")
sub("""  heat_room_fan:
    protocol: tasmota
    topic: heatfan
    speed_dimmer: true""", """  heat_room_fan:
    protocol: esphome
    topic: heatfan
    object_id: fan""")
sub("""  heat_room_heater:
    protocol: esphome
    topic: heatroom
    object_id: heater""", """  heat_room_heater:
    protocol: shelly_gen2
    topic: shellyplus1-heater
    channel: 0
    dead_man_s: 600""")
sub("    # stagger_s: 30 ", "    stagger_s: 1 #")
sub("      relay_id: primary_s21", "      relay_id: primary_s21\n      start_delay_s: 1")
sub("      relay_id: dump_s19_1", "      relay_id: dump_s19_1\n      start_delay_s: 1")
open(out, "w").write(t)
PY
"$BUILD/shackd" check --config "$WORK/owner.yaml" >"$WORK/check.out" 2>&1
check "the owner's config is valid" '[[ $? -eq 0 ]]' || { cat "$WORK/check.out"; finish; exit 1; }
owner_sum=$(sha256sum <"$WORK/owner.yaml")

# Everything published, on the owner's topics or anywhere: nothing may reach a real device's.
# (shackd's user may read everything, as the guide's ACL grants it.)
# exec: the pid kept is mosquitto_sub's own (a shell function in the background is a subshell,
# whose kill left the subscriber running after the test).
( exec mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -u shackd -P 'pa ss#1' -v -t '#' >"$WORK/all.log" 2>/dev/null ) &
PIDS+=($!)

mkfifo "$WORK/sim.in"
"$BUILD/shackd-sim" --site-from "$WORK/owner.yaml" --write-config "$WORK/try.yaml" --sensor-period 1 \
  --pv-w 9000 --house-w 300 --internal-ohm 0 <"$WORK/sim.in" >"$WORK/sim.out" 2>&1 &
SIM_PID=$!
PIDS+=("$SIM_PID")
exec {SIM_FD}>"$WORK/sim.in"
wait_for "the simulator's broker connection" 10 "grep -q '^mqtt connected' '$WORK/sim.out'" || { cat "$WORK/sim.out"; finish; exit 1; }
simcmd() { echo "$*" >&"$SIM_FD"; }
check "the trial config is written and named" "grep -q 'trial config $WORK/try.yaml (database $WORK/try.db)' '$WORK/sim.out'"
check "the owner's file is untouched" '[[ $(sha256sum <"$WORK/owner.yaml") == "$owner_sum" ]]'
check "the trial config is valid" "'$BUILD/shackd' check --config '$WORK/try.yaml' >/dev/null 2>&1"
check "the trial takes no real topic (Tasmota by its FullTopic)" "! grep -Eq 'topic: (shellyplus1pm-a8032ab29be0|heatfan|shellyplus1-heater|shelly1-AABBCC|home/|tele/)' '$WORK/try.yaml' &&
   grep -q 'full_topic: shackd-try/%prefix%/%topic%/' '$WORK/try.yaml'"
check "the trial's devices are the simulator's, on TCP" \
  "[[ \$(grep -c 'host: 127.0.0.1' '$WORK/try.yaml') -eq 2 ]] && ! grep -q 'ttyUSB7' '$WORK/try.yaml'"
check "the trial has its own database, client id and prefix, no discovery" \
  "grep -q 'path: $WORK/try.db' '$WORK/try.yaml' && grep -q 'client_id: shackd-try' '$WORK/try.yaml' &&
   grep -q 'prefix: shack-try' '$WORK/try.yaml' && grep -q 'discovery: false' '$WORK/try.yaml'"

# A bank at 55 V with 9 kW of sun and a hot main room: the primary and the main room's fan start
# by themselves; the owner turns the rest on with an override, then everything off: each relay
# is switched both ways and confirms each time by its own protocol's report.
simcmd set battery_v 55
simcmd set zone.main_room_temp 45
start_daemon "$WORK/try.yaml"
want() {  # want LOAD ON|OFF: shackd wants it so and its relay reports it so
  check_within "$1: wanted $2, confirmed by its relay" 30 "[[ \$(state $1 state) == $2 && \$(state $1 observed) == $2 ]]"
}
override() { mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -u shackd -P 'pa ss#1' -t "shack-try/load/$1/mode/set" -m "$2" -q 1; }
want primary_s21 ON   # Tasmota
want main_room_fan ON # Shelly Gen1
ALL=(primary_s21 dump_s19_1 heat_room_heater main_room_fan heat_room_fan main_room_heater)
for load in dump_s19_1 heat_room_heater heat_room_fan main_room_heater; do override "$load" "on 1h"; done
want dump_s19_1 ON        # Shelly Gen2
want heat_room_heater ON  # Shelly Gen2, with its dead-man
want heat_room_fan ON     # ESPHome
want main_room_heater ON  # generic
for load in "${ALL[@]}"; do override "$load" "off 1h"; done
for load in "${ALL[@]}"; do want "$load" OFF; done
check "the simulator drew the heater's and the miners' power" "simcmd status; sleep 0.3; grep -q 'load_w=' '$WORK/sim.out'"
daemon_alive "during the trial"
check "no relay was left unconfirmed" "! daemon_log | grep -q relay_unconfirmed"
check "the Gen2 heater got its dead-man (toggle_after 600)" \
  "grep -q 'shackd-try/shellyplus1-heater/rpc .*\"toggle_after\":600' '$WORK/all.log'"
# (A Shelly Gen2 answers on shackd/rpc, the reply topic it is told; its src is the trial's device.)
check "nothing was published outside the trial's topics (a real device's, shackd's, Home Assistant's)" \
  "! grep -Ev '^(shackd-try/|shack-try/|shellies/shackd-try-|shackd/rpc \\{.*\"src\":\"shackd-try/)' '$WORK/all.log' | grep -q ."
finish
