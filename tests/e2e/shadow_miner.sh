#!/usr/bin/env bash
# Issue 60: shadow mode beside another controller, with the primary's own API (LuxOS on the
# simulator, on loopback). The shadow reads the miner as a commanding shackd would (its telemetry
# in shack/load/primary_s21/miner, its draw in the decisions) and sends it nothing: when shackd
# would stop it, no sleep; no power target ever (the simulator counts each: sleeps=, wakes=,
# target_writes=). The other controller (this script) holds the relay ON throughout.
# Usage: BUILD=build SRC=. shadow_miner.sh
source "$(dirname "$0")/lib.sh"

start_broker
spy 'cmnd/#'
start_sim --battery-v 52.0 --miner "primary_s21=luxos:0" --miner-boot-s 1 --miner-wind-down-s 3
port=$(sed -nE 's/^ready .* miner.primary_s21=127.0.0.1:([0-9]+).*/\1/p' "$WORK/sim.out")
check "the simulator serves the miner's API" '[[ -n $port ]]' || { finish; exit 1; }
write_config "$WORK/shackd.yaml"
sed -i 's|^  interval_ms: 250$|&\n  shadow: true|' "$WORK/shackd.yaml"
echo "miners:
  primary_s21: {kind: luxos, host: 127.0.0.1, port: $port, poll_s: 2, timeout_ms: 500, stop_timeout_s: 120, boot_s: 10}" \
  >>"$WORK/shackd.yaml"
start_daemon "$WORK/shackd.yaml" || { cat "$WORK/shackd.log"; finish; exit 1; }

check "the start says the miner is read only" 'daemon_log | grep -q "miner primary_s21: .* read only (shadow mode): its own figures, never a command"'
# The other controller switches the primary ON; the miner boots and mines.
mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t cmnd/primary_s21/POWER1 -m ON
check_within "shackd reads the miner's own figures (shack/load/primary_s21/miner)" 20 \
  'grep -q "\"power_w\":[1-9]" <<<"$(retained shack/load/primary_s21/miner)"'
check_within "its API answers, in the log" 10 "daemon_log | grep -q 'miner primary_s21: its API answers'"
# Below the stop: a commanding shackd would send sleep now, then cut the relay; the shadow neither.
sim set battery_v 46.0
check_within "shackd would stop it (shack/shadow/primary_s21: would OFF, actual ON)" 10 \
  'grep -q "\"agree\":false,\"would\":\"OFF\",\"actual\":\"ON\"" <<<"$(retained shack/shadow/primary_s21)"'
sleep 3
l=$(miner_line)
echo "measured: $l"
check "no sleep, no wake, no power target reached the miner ($l)" \
  '[[ $(field sleeps "$l") == 0 && $(field wakes "$l") == 0 && $(field target_writes "$l") == 0 ]]'
check "the miner still mines (the other controller holds it)" '[[ $(field asleep "$l") == false && $(field powered "$l") == true ]]'
check "nothing from shackd on cmnd/# (only this script's ON)" \
  '[[ $(grep -c "^cmnd/" "$WORK/spy.log") == 1 ]] && grep -qx "cmnd/primary_s21/POWER1 ON" "$WORK/spy.log"'
check "no soft stop in the log" '! daemon_log | grep -q "asleep at .* relay cut\|sending power target"'
finish
