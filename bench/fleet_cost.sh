#!/usr/bin/env bash
# What one site costs a fleet's central systems: the series it gives Prometheus, the bytes of a
# scrape (as sent plain, and gzipped as Prometheus asks for it), and what it publishes on MQTT per
# minute (messages and bytes), and what of it the uplink's bridge carries (shack/site/<id>/). The site is the
# e2e one (both devices on the simulator, 6 relays, 2 sensors) at the production interval of 2 s.
# The figures go in docs/development.md ("Scale").
# Usage: bench/fleet_cost.sh [BUILD_DIR] [SECONDS]   (default build, 60)
set -uo pipefail
cd "$(dirname "$0")/.."
export BUILD=${1:-build} SRC=.
seconds=${2:-60}
source tests/e2e/lib.sh

start_broker
start_sim --sensor-period 30
write_config "$WORK/cost.yaml"
sed -i -e 's/interval_ms: 250/interval_ms: 2000/' -e 's/electrical_stale_after_s: 2/electrical_stale_after_s: 30/' "$WORK/cost.yaml"
port=$(free_port)
printf 'metrics:\n  listen: 127.0.0.1:%s\nuplink:\n  state_interval_s: 60\n' "$port" >>"$WORK/cost.yaml"
start_daemon "$WORK/cost.yaml" || exit 1
sleep 10  # past the start's full publish (discovery, retained state): the steady state is measured
timeout "$seconds" mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -v -t '#' >"$WORK/mqtt.log" 2>/dev/null
curl -sf "http://127.0.0.1:$port/metrics" >"$WORK/scrape.txt" || { echo "FAIL: no scrape"; exit 1; }
curl -sf -H 'Accept-Encoding: gzip' "http://127.0.0.1:$port/metrics" -o "$WORK/scrape.gz" || { echo "FAIL: no gzip scrape"; exit 1; }
series=$(grep -vc '^#' "$WORK/scrape.txt")
plain=$(wc -c <"$WORK/scrape.txt")
gz=$(wc -c <"$WORK/scrape.gz")
# shackd's own messages (its prefix and Home Assistant's), not the simulator's relays and sensors.
own=$(grep -cE '^(shack|homeassistant)/' "$WORK/mqtt.log")
own_bytes=$(grep -E '^(shack|homeassistant)/' "$WORK/mqtt.log" | wc -c)
all=$(wc -l <"$WORK/mqtt.log")
# What the uplink's bridge carries: shack/site/<id>/ only (events and the state every 60 s).
up=$(grep -cE '^shack/site/' "$WORK/mqtt.log")
up_bytes=$(grep -E '^shack/site/' "$WORK/mqtt.log" | wc -c)
state_bytes=$(grep -E '^shack/site/[^/]+/state ' "$WORK/mqtt.log" | tail -1 | wc -c)
per_min() { echo $(( $1 * 60 / seconds )); }
echo "fleet_cost: one site, ${seconds} s at a 2 s interval"
printf '  %-44s %s\n' "series per scrape" "$series" \
  "bytes per scrape (plain)" "$plain" \
  "bytes per scrape (gzip)" "$gz" \
  "shackd's MQTT messages per minute" "$(per_min "$own")" \
  "shackd's MQTT bytes per minute (topic+payload)" "$(per_min "$own_bytes")" \
  "all MQTT messages per minute (relays, sensors too)" "$(per_min "$all")" \
  "uplink messages per minute (shack/site/...)" "$(per_min "$up")" \
  "uplink bytes per minute" "$(per_min "$up_bytes")" \
  "one uplink state message (topic+payload)" "$state_bytes"
