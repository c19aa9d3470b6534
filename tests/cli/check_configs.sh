#!/usr/bin/env bash
# `shackd check` on ten broken configs: ten precise messages, each with its path and line.
# Usage: check_configs.sh path/to/shackd path/to/source
set -uo pipefail
shackd=${1:?usage: check_configs.sh SHACKD SRC}
src=${2:?usage: check_configs.sh SHACKD SRC}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
passed=0 failed=0

# A good base: the e2e config with fixed ports and a database that does not exist yet.
sed -e "s|\${DB}|$dir/none.db|" -e 's|\${VICTRON_PORT}|5020|' -e 's|\${SOLARK_PORT}|5021|' -e 's|\${MQTT_PORT}|1883|' \
  "$src/tests/e2e/e2e.yaml" >"$dir/good.yaml"

expect() {  # expect NAME PATTERN SED-EXPRESSION-OR-APPENDED-TEXT
  local name=$1 pattern=$2 edit=$3 out rc
  cp "$dir/good.yaml" "$dir/bad.yaml"
  if [[ $edit =~ ^[0-9]*s[/|] ]]; then sed -i "$edit" "$dir/bad.yaml"; else printf '%s\n' "$edit" >>"$dir/bad.yaml"; fi
  out=$("$shackd" check --config "$dir/bad.yaml" 2>&1)
  rc=$?
  if [[ $rc -eq 78 ]] && grep -qF -- "$pattern" <<<"$out"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    printf 'FAIL: %s: exit %s, output:\n%s\n(wanted: %s)\n' "$name" "$rc" "$out" "$pattern"
  fi
}

out=$("$shackd" check --config "$dir/good.yaml" 2>&1) && grep -q ': ok (6 relay(s)' <<<"$out" && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAIL: the good config: $out"; }

expect "unknown key" "loop.interval (line 7:3): unknown key; did you mean interval_ms?" 's/  interval_ms: 250/  interval: 250/'
expect "wrong type" "devices.victron.port (line 11:11): expected a whole number, got 'five'" 's/    port: 5020/    port: five/'
expect "out of range" "devices.solark.timeout_ms (line 18:17): 20 is out of range: must be 50 to 30000" '18s/timeout_ms: 500/timeout_ms: 20/'
expect "octal" "loop.interval_ms (line 7:16): '0250' has a leading zero, which YAML reads as octal" 's/interval_ms: 250/interval_ms: 0250/'
expect "duplicate key" "mqtt.prefix (line 24:3): duplicate key: also at line 23; keep one" 's|  prefix: shack|  prefix: shack\n  prefix: shed|'
expect "a bad relay protocol" "relays.dump_s19_1.protocol (line 27:26): 'tasmoto' must be tasmota, shelly_gen1" 's/dump_s19_1: {protocol: tasmota/dump_s19_1: {protocol: tasmoto/'
expect "an undefined relay" "profiles: miner 'Primary S21+': relay_id 'primary_s22' is not defined under relays:" \
  's/    - name: "Primary S21+"/    - name: "Primary S21+"\n      relay_id: primary_s22/'
expect "an undefined sensor" "profiles: zone 'Heat Room': sensor_id 'heat_room_t' is not defined under sensors:" \
  $'  zones:\n    - name: Heat Room\n      sensor_id: heat_room_t'
expect "a bad threshold" "miner 'Primary S21+': stop_voltage 51.0 must be below start_voltage 50.0" \
  's/    - name: "Primary S21+"/    - name: "Primary S21+"\n      stop_voltage: 51.0/'
expect "a bad URI" "mqtt.uri (line 21:8): 'mqtt://127.0.0.1:1883' must start with tcp:// or ssl://" 's|tcp://127.0.0.1:1883|mqtt://127.0.0.1:1883|'
expect "syntax" "YAML syntax error" 's/  name: e2e/  name: [e2e/'

# The shipped example for a real site is valid as shipped (against a database not created yet).
sed "s|/var/lib/shackd/shackd.db|$dir/example.db|" "$src/config/shackd.example.yaml" >"$dir/example.yaml"
out=$("$shackd" check --config "$dir/example.yaml" 2>&1) && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAIL: config/shackd.example.yaml: $out"; }

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
