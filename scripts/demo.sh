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
echo "demo: 1/3 checking the Debian packages the demo needs (apt-get installs what is missing)"
scripts/setup.sh --demo
# Its own build tree with only the two programs it runs: no tests, no benchmarks (the test
# command builds those), so a first run compiles in a few minutes, and shows it.
echo "demo: 2/3 building shackd and shackd-sim in build-demo/ (the first time takes a few minutes)"
cmake -S . -B build-demo -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHACKD_TESTS=OFF -DSHACKD_BENCH=OFF >/dev/null
progress() { while IFS= read -r line; do [[ $line =~ ^\[([0-9]+)/([0-9]+)\] ]] && printf '\r  %s/%s compiled' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"; done; echo; }
if ! cmake --build build-demo -j "$(nproc)" --target shackd shackd-sim 2>&1 | tee build-demo/build.log | progress; then
  tail -30 build-demo/build.log
  echo "demo: the build failed (whole log: build-demo/build.log)"
  exit 1
fi
echo "demo: 3/3 starting the broker, the simulator and shackd"

work=$(mktemp -d /tmp/shackd-demo-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # faketime runs shackd as its child: stop whatever still names this demo's directory.
  pkill -f "$work" 2>/dev/null || true
  wait 2>/dev/null || true
  # The day so far as a picture, kept in the current directory (the demo's own files are not).
  if [[ -s $work/shackd.db ]] && build-demo/shackd report --config "$work/demo.yaml" --day "$(date +%Y-%m-%d)" \
    --out "shackd-demo-$(date +%Y-%m-%d).svg" >/dev/null 2>&1; then
    echo "demo: the day as a picture: $PWD/shackd-demo-$(date +%Y-%m-%d).svg (open it in a browser)"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo; echo "demo: stopping"; exit 0' INT TERM

mqtt_port=$(free_port)
site_broker "$work" "$mqtt_port" ||
  { pids+=("$SITE_BROKER_PID"); cat "$work/mosquitto.log"; echo "demo: mosquitto did not start"; exit 1; }
pids+=("$SITE_BROKER_PID")
site_sim build-demo/shackd-sim "$work" "$mqtt_port" --scenario config/demo-day.csv --speed "$speed" \
  --capacity-wh 20000 --soc 38 --internal-ohm 0.01 --sensor-period 2 ||
  { pids+=("$SITE_SIM_PID"); cat "$work/sim.out"; echo "demo: the simulator did not start"; exit 1; }
pids+=("$SITE_SIM_PID")
# Device timeouts are on the faked clock: 1000 ms at 60x is 17 ms of real time, which a busy
# machine misses ("not answering"). Give the real time a site would have, about 100 ms.
timeout_ms=$((speed * 100 > 30000 ? 30000 : speed * 100))
site_config config/demo.yaml "$work/shackd.db" "$mqtt_port" -e "s/timeout_ms: 1000/timeout_ms: $timeout_ms/" >"$work/demo.yaml"

cat <<INFO
shackd demo: a day at the Solar Shack from 05:00, ${speed}x real time (about $((17 * 3600 / speed / 60)) minutes).
  broker     127.0.0.1:$mqtt_port     simulator: GX on :$SITE_VICTRON_PORT, Sol-Ark on :$SITE_SOLARK_PORT
  watch it:  mosquitto_sub -h 127.0.0.1 -p $mqtt_port -t 'shack/#' -v
             mosquitto_sub -h 127.0.0.1 -p $mqtt_port -t 'cmnd/#' -v        (the relay commands)
  override:  mosquitto_pub -h 127.0.0.1 -p $mqtt_port -t shack/load/dump_s19_1/mode/set -m 'off 1h'
  the day:   build-demo/shackd report --config $work/demo.yaml --day $(date +%Y-%m-%d) --out day.png   (an SVG is written when the demo stops)
Decisions follow as they happen (times are simulated). Ctrl-C stops everything.

INFO
# The seed profiles are the Solar Shack's, in America/Los_Angeles: start the day there.
TZ=America/Los_Angeles faketime -f "@$(date +%Y-%m-%d) 05:00:00 x$speed" build-demo/shackd run --config "$work/demo.yaml" &
pids+=($!)
wait "${pids[-1]}"
