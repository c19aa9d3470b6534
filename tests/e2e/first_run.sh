#!/usr/bin/env bash
# A new owner's first run: a config written from scratch (config/examples/cabin.yaml, its own
# names) runs against the simulator, and a broker that refuses the password is said so, once,
# in the log and by `shackd status` (exit 69), while shackd keeps retrying.
# Env: BUILD (the build tree), SRC (the source tree).
set -uo pipefail
source "$SRC/tests/e2e/lib.sh"
work=$WORK

mqtt_port=$(free_port)
# A broker with one user, as a site's broker is set up (docs: mosquitto_passwd).
mosquitto_passwd -c -b "$work/passwd" shackd right-password >/dev/null 2>&1
printf 'listener %s 127.0.0.1\nallow_anonymous false\npassword_file %s\npersistence false\n' "$mqtt_port" "$work/passwd" \
  >"$work/mosquitto.conf"
[[ $(id -u) -eq 0 ]] && echo "user root" >>"$work/mosquitto.conf"  # else it cannot read the private work dir
/usr/sbin/mosquitto -c "$work/mosquitto.conf" >>"$work/mosquitto.log" 2>&1 &
PIDS+=($!)
wait_for "the broker listens" 5 "(echo >/dev/tcp/127.0.0.1/$mqtt_port) 2>/dev/null"
# The simulator as the cabin's devices: its relays and loads under the cabin's names (the
# simulator's --tasmota-relay speaks Tasmota, so the Shelly heater becomes a Tasmota one in this test;
# tests/e2e/site_from.sh runs a Shelly Gen2 heater through --site-from).
SITE_SIM_ARGS=(--load garage_s9=1350 --load shed_heater=1500 --tasmota-relay garage_s9=garage-s9
  --tasmota-relay shed_heater=shed-heater)
printf 'wrong-password\n' >"$work/mqtt.password"
"$BUILD/shackd-sim" --victron-port 0 --solark-port 0 --battery-v 52.8 --battery-unit 238 "${SITE_SIM_ARGS[@]}" \
  >"$work/sim.out" 2>&1 </dev/null &
PIDS+=($!)
wait_for "the simulator is ready" 10 "grep -q '^ready' '$work/sim.out'"
victron_port=$(sed -nE 's/^ready.*victron=127.0.0.1:([0-9]+).*/\1/p' "$work/sim.out")
sed -e "s|/var/lib/shackd/shackd.db|$work/shackd.db|" -e "s|/etc/shackd/mqtt.password|$work/mqtt.password|" \
  -e "s|host: 192.168.8.20|host: 127.0.0.1\n    port: $victron_port|" -e "s|tcp://127.0.0.1:1883|tcp://127.0.0.1:$mqtt_port|" \
  -e 's|shed_heater: {protocol: shelly_gen2, topic: shellyplus1-shed, dead_man_s: 1800}|shed_heater: {protocol: tasmota, topic: shed-heater}|' \
  "$SRC/config/examples/cabin.yaml" >"$work/cabin.yaml"

out=$("$BUILD/shackd" check --config "$work/cabin.yaml" 2>&1)
check "check passes on a new database" 'grep -qF ": ok (2 relay(s), 1 sensor(s), 2 miner(s), 1 zone(s)" <<<"$out"' 
out=$("$BUILD/shackd" once --config "$work/cabin.yaml" 2>&1)
check "once reads the simulated GX" 'grep -qE "^battery 5[0-9]\.[0-9]+ V" <<<"$out"'
check "once decides the cabin's own miner" 'grep -qE "^Garage S9 +garage_s9 " <<<"$out"'
check "once lists the heater of the cabin's zone" 'grep -qE "^Battery Shed heater +shed_heater " <<<"$out"'
check "the disabled spare miner has no relay and is not listed" '! grep -qE "^Spare S9 " <<<"$out"'
[[ $failed -eq 0 ]] || echo "$out"

"$BUILD/shackd" run --config "$work/cabin.yaml" >"$work/shackd.log" 2>&1 &
shackd_pid=$!
PIDS+=($shackd_pid)
wait_for "shackd logs the refusal" 10 "grep -q 'mqtt: not authorised (CONNACK 5)\|mqtt: bad user name or password (CONNACK 4)' '$work/shackd.log'"
sleep 4  # more retries (a refusal: 50 ms doubling): the same cause is not logged again
check "the refusal is logged once per change of cause" '[[ $(grep -c "mqtt: not authorised\|mqtt: bad user name" "$work/shackd.log") -eq 1 ]]'
check "the log says it retries" 'grep -q "trying again" "$work/shackd.log"'
check "shackd keeps running" 'kill -0 "$shackd_pid"' 
out=$("$BUILD/shackd" status --config "$work/cabin.yaml" 2>&1)
rc=$?
check "status exits 69 when the broker refuses it" '[[ $rc -eq 69 ]]'
check "status names the broker's reason" 'grep -q "cannot read shackd.s status from the broker tcp://127.0.0.1:$mqtt_port: \(not authorised\|bad user name\)" <<<"$out"' 

# The right password (a reload is not needed: the password file is read at each connect).
printf 'right-password\n' >"$work/mqtt.password"
wait_for "shackd connects once the password is right" 40 "grep -q 'mqtt: connected to' '$work/shackd.log'"
wait_for "status reads shackd's status" 15 "'$BUILD/shackd' status --config '$work/cabin.yaml' >/dev/null 2>&1"
kill -TERM "$shackd_pid"
wait "$shackd_pid"
rc=$?
check "shackd stops cleanly" '[[ $rc -eq 0 ]]'
[[ $failed -eq 0 ]] || cat "$work/shackd.log"

finish
