#!/usr/bin/env bash
# The demo: sets up and builds, then runs shackd against a simulated Solar Shack on this machine:
# a loopback Mosquitto, shackd-sim (the GX and the Sol-Ark over Modbus, the relays and sensors over
# MQTT) playing a compressed day, and shackd itself, 60x faster than real time (faketime), so a
# day from 05:00 to 22:00 takes about 17 minutes. Ctrl-C stops everything it started.
#   scripts/demo.sh [SPEED]     (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/local-site.sh
speed=${1:-60}
scripts/setup.sh
scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

work=$(mktemp -d /tmp/shackd-demo-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # faketime runs shackd as its child: stop whatever still names this demo's directory.
  pkill -f "$work" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo; echo "demo: stopping"; exit 0' INT TERM

mqtt_port=$(free_port)
site_broker "$work" "$mqtt_port" ||
  { pids+=("$SITE_BROKER_PID"); cat "$work/mosquitto.log"; echo "demo: mosquitto did not start"; exit 1; }
pids+=("$SITE_BROKER_PID")
site_sim build/shackd-sim "$work" "$mqtt_port" --scenario config/demo-day.csv --speed "$speed" \
  --capacity-wh 20000 --soc 38 --internal-ohm 0.01 --sensor-period 2 ||
  { pids+=("$SITE_SIM_PID"); cat "$work/sim.out"; echo "demo: the simulator did not start"; exit 1; }
pids+=("$SITE_SIM_PID")
site_config config/demo.yaml "$work/shackd.db" "$mqtt_port" >"$work/demo.yaml"

cat <<INFO
shackd demo: a day at the Solar Shack from 05:00, ${speed}x real time (about $((17 * 3600 / speed / 60)) minutes).
  broker     127.0.0.1:$mqtt_port     simulator: GX on :$SITE_VICTRON_PORT, Sol-Ark on :$SITE_SOLARK_PORT
  watch it:  mosquitto_sub -h 127.0.0.1 -p $mqtt_port -t 'shack/#' -v
             mosquitto_sub -h 127.0.0.1 -p $mqtt_port -t 'cmnd/#' -v        (the relay commands)
  override:  mosquitto_pub -h 127.0.0.1 -p $mqtt_port -t shack/load/dump_s19_1/mode/set -m 'off 1h'
Decisions follow as they happen (times are simulated). Ctrl-C stops everything.

INFO
# The seed profiles are the Solar Shack's, in America/Los_Angeles: start the day there.
TZ=America/Los_Angeles faketime -f "@$(date +%Y-%m-%d) 05:00:00 x$speed" build/shackd run --config "$work/demo.yaml" &
pids+=($!)
wait "${pids[-1]}"
