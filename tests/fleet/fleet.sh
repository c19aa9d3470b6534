#!/usr/bin/env bash
# A fleet on loopback: three sites, each its own mosquitto, shackd-sim and shackd with its metrics
# endpoint, scraped by Debian's Prometheus with the shipped rules (contrib/prometheus/). Checks:
# each endpoint's text passes `promtool check metrics`, its OpenMetrics passes the strict parser of
# python3-prometheus-client, every series docs/guide.md lists is served; then site b is stopped
# mid-run and ShackdSiteDown fires for b alone and clears when b is back. The rules' minutes are
# scaled to seconds here (for: 5m becomes for: 5s); their timing is unit-tested with promtool
# (tests/fleet/rules.sh). Last, every query of the Grafana dashboard (contrib/grafana/
# shackd-fleet.json) is evaluated by the same Prometheus and must return series
# (tests/fleet/dashboard.py): site c has a Braiins OS miner with a power target (the simulator's)
# and a fake Raspberry Pi's health (host.root), and an alarm is raised on it first.
source "$SRC/tests/e2e/lib.sh"
for tool in prometheus promtool curl; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/setup.sh installs it)"; exit 1; }
done
# Debian's python3, where Debian's python3-prometheus-client is (not a python3 of pyenv or a venv).
/usr/bin/python3 -c 'import prometheus_client.openmetrics.parser' 2>/dev/null ||
  { echo "FAIL: python3-prometheus-client is not installed (scripts/setup.sh installs it)"; exit 1; }

declare -A METRICS_PORT DAEMON
# start_site NAME [shackd-sim args...]: its broker, simulator and shackd (first decision within 15 s).
start_site() {
  local s=$1 dir=$WORK/$1 mqtt
  shift
  mkdir -p "$dir"
  mqtt=$(free_port)
  site_broker "$dir" "$mqtt" || { echo "FAIL: site $s: mosquitto did not start"; exit 1; }
  PIDS+=("$SITE_BROKER_PID")
  site_sim "$BUILD/shackd-sim" "$dir" "$mqtt" --internal-ohm 0 --house-w 500 --sensor-period 1 "$@" ||
    { cat "$dir/sim.out"; echo "FAIL: site $s: the simulator did not start"; exit 1; }
  PIDS+=("$SITE_SIM_PID")
  METRICS_PORT[$s]=$(free_port)
  site_config "$SRC/tests/e2e/e2e.yaml" "$dir/shackd.db" "$mqtt" -e "s|name: e2e|name: Site $s|" >"$dir/shackd.yaml"
  printf 'metrics:\n  listen: 127.0.0.1:%s\n' "${METRICS_PORT[$s]}" >>"$dir/shackd.yaml"
  [[ $s != c ]] || site_c_extras "$dir"
  run_site "$s"
}
# Site c: the simulator's Braiins OS miner on the primary's relay, with a power target on a sunny
# day (the simulator's PV), and a
# healthy Raspberry Pi's sysfs and proc (as tests/e2e/host_health.sh lays them out).
site_c_extras() {
  local dir=$1 port pi=$1/pi
  port=$(sed -nE 's/^ready .* miner.primary_s21=127.0.0.1:([0-9]+).*/\1/p' "$dir/sim.out")
  [[ -n $port ]] || { cat "$dir/sim.out"; echo "FAIL: site c: the simulator serves no miner"; exit 1; }
  put() { mkdir -p "$(dirname "$pi/$1")"; printf '%s\n' "$2" >"$pi/$1"; }
  put sys/bus/platform/drivers/raspberrypi-firmware/soc:firmware/get_throttled 0
  put sys/class/hwmon/hwmon0/name rpi_volt
  put sys/class/hwmon/hwmon0/in0_lcrit_alarm 0
  put sys/class/thermal/thermal_zone0/type cpu-thermal
  put sys/class/thermal/thermal_zone0/temp 48300
  put proc/self/io "$(printf 'rchar: 1\nwchar: 1\nwrite_bytes: 1000\ncancelled_write_bytes: 0')"
  printf 'host:\n  root: %s\n  interval_s: 1\n' "$pi" >>"$dir/shackd.yaml"
  # A power target follows the surplus (the rules refuse one on a load that does not ask for it).
  sed -i 's|^    - name: "Primary S21+"$|&\n      require_excess_solar: true\n      minimum_excess_w: 1000|' "$dir/shackd.yaml"
  printf 'miners:\n  primary_s21: {kind: braiins, host: 127.0.0.1, port: %s, password: sim-secret, poll_s: 2,\n' "$port" >>"$dir/shackd.yaml"
  printf '    timeout_ms: 500, boot_s: 10, target: {min_w: 800, max_w: 3600, step_w: 100}}\n' >>"$dir/shackd.yaml"
}
run_site() {
  local s=$1 dir=$WORK/$1
  "$BUILD/shackd" run --config "$dir/shackd.yaml" >>"$dir/shackd.log" 2>&1 &
  DAEMON[$s]=$!
  PIDS+=("${DAEMON[$s]}")
  wait_for "site $s's first decision" 15 "grep -q 'first decision' '$dir/shackd.log'" || { tail "$dir/shackd.log"; exit 1; }
}
start_site a
start_site b
start_site c --miner primary_s21=braiins:0 --miner-boot-s 1 --pv-w 9000 --battery-v 54.5

# The endpoint, as a scraper sees it.
scrape() { curl -sf --max-time 5 "$@" "http://127.0.0.1:${METRICS_PORT[a]}/metrics"; }
check "the metrics endpoint answers" 'scrape >"$WORK/a.prom"'
check "promtool check metrics finds nothing wrong" 'promtool check metrics <"$WORK/a.prom" >"$WORK/lint.out" 2>&1' ||
  cat "$WORK/lint.out"
check "OpenMetrics on request" \
  'scrape -H "Accept: application/openmetrics-text; version=1.0.0" >"$WORK/a.om" && tail -1 "$WORK/a.om" | grep -qx "# EOF"'
check "the OpenMetrics text passes prometheus_client's strict parser" \
  '/usr/bin/python3 -c "
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse
n = sum(len(f.samples) for f in parse(open(sys.argv[1]).read()))
assert n > 50, n
" "$WORK/a.om"'
# Every series the guide's "Many sites" chapter lists, by its family's name.
listed=$(sed -n '/^## Many sites/,/^## /p' "$SRC/docs/guide.md" | grep -oE '^\| `(shackd|process)_[a-z_:]+' | sed 's/^| `//' | sort -u)
check "the guide lists the series (found $(wc -w <<<"$listed"))" '[[ $(wc -w <<<"$listed") -ge 30 ]]'
missing=()
for name in $listed; do
  grep -qE "^# TYPE ${name}(_total)? " "$WORK/a.prom" || missing+=("$name")
done
check "every series the guide lists is served (missing: ${missing[*]:-none})" '[[ ${#missing[@]} -eq 0 ]]'

# Prometheus, scraping each site every second, with the shipped rules scaled to seconds.
PROM_PORT=$(free_port)
sed -E 's/for: ([0-9]+)m$/for: \1s/' "$SRC/contrib/prometheus/shackd-rules.yml" >"$WORK/rules.yml"
{
  printf 'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [%s]\nscrape_configs:\n' "$WORK/rules.yml"
  printf '  - job_name: shackd\n    static_configs:\n'
  for s in a b c; do printf '      - targets: ["127.0.0.1:%s"]\n        labels: {site: %s}\n' "${METRICS_PORT[$s]}" "$s"; done
} >"$WORK/prometheus.yml"
check "promtool check config" 'promtool check config "$WORK/prometheus.yml" >"$WORK/config.out" 2>&1' || cat "$WORK/config.out"
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
# query EXPR: the result's samples, one line each: "<site> <value>".
query() {
  curl -sf --max-time 5 --get --data-urlencode "query=$1" "http://127.0.0.1:$PROM_PORT/api/v1/query" 2>/dev/null |
    python3 -c 'import json,sys
for r in json.load(sys.stdin)["data"]["result"]: print(r["metric"].get("site","-"), r["value"][1])' 2>/dev/null
}
check_within "Prometheus scrapes all three sites" 30 '[[ $(query "sum(up{job=\"shackd\"})") == "- 3" ]]'
check_within "the recorded rule runs" 10 '[[ $(query "shackd:sites_up:sum") == "- 3" ]]'
check "a battery voltage per site" '[[ $(query "count by (site) (shackd_battery_decided_voltage_volts)" | wc -l) -eq 3 ]]'
check "no alert fires on three healthy sites" '[[ -z $(query "ALERTS{alertstate=\"firing\"}") ]]' ||
  query 'ALERTS{alertstate="firing"}' | sed 's/^/    /'

kill -TERM "${DAEMON[b]}"
wait "${DAEMON[b]}" 2>/dev/null
check_within "ShackdSiteDown fires for site b" 30 \
  '[[ $(query "ALERTS{alertname=\"ShackdSiteDown\",alertstate=\"firing\"}") == "b 1" ]]'
check "and for site b alone" '[[ $(query "ALERTS{alertstate=\"firing\"}") == "b 1" ]]'
run_site b
check_within "ShackdSiteDown clears when site b is back" 30 '[[ -z $(query "ALERTS{alertname=\"ShackdSiteDown\"}") ]]'
# The dashboard: an alarm on site c first (its GX unplugged: the Sol-Ark's voltage carries on, with
# an alarm), so that the alarms' panels have something to show; then every query.
site_sim_cmd fault victron offline
check_within "an alarm on site c reaches Prometheus" 30 '[[ -n $(query "shackd_alarm_active{site=\"c\"}") ]]'
check_within "the miner's power and target reach Prometheus" 30 \
  '[[ -n $(query "shackd_miner_power_watts{site=\"c\"}") && -n $(query "shackd_load_power_target_watts{site=\"c\"}") ]]'
check "every query of the Grafana dashboard parses and returns series" \
  'python3 "$SRC/tests/fleet/dashboard.py" "$SRC/contrib/grafana/shackd-fleet.json" "http://127.0.0.1:$PROM_PORT" >"$WORK/dashboard.out" 2>&1' ||
  grep -v "^ok:" "$WORK/dashboard.out"
check "Prometheus said nothing wrong" '! grep -qiE "level=(error|warn)" "$WORK/prometheus.log"' ||
  grep -iE "level=(error|warn)" "$WORK/prometheus.log" | head -5
finish
