#!/usr/bin/env bash
# `shackd check` on broken configs: one precise message each, each with its path and line.
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
expect "duplicate key" "mqtt.prefix (line 25:3): duplicate key: also at line 24; keep one" 's|  prefix: shack|  prefix: shack\n  prefix: shed|'
expect "a bad relay protocol" "relays.dump_s19_1.protocol (line 28:26): 'tasmoto' must be tasmota, shelly_gen1" 's/dump_s19_1: {protocol: tasmota/dump_s19_1: {protocol: tasmoto/'
expect "an undefined relay" "profiles.miners[0].relay_id (line 46:17) (miner 'Primary S21+'): relay_id 'primary_s22' is not defined under relays: (did you mean primary_s21?)" \
  's/    - name: "Primary S21+"/    - name: "Primary S21+"\n      relay_id: primary_s22/'
expect "an undefined sensor" "profiles.zones[0].sensor_id (line 57:18) (zone 'Heat Room'): sensor_id 'heat_room_t' is not defined under sensors: (did you mean heat_room_temp?)" \
  's/    - name: Heat Room/    - name: Heat Room\n      sensor_id: heat_room_t/'
expect "a bad threshold" "miner 'Primary S21+': stop_voltage 51.0 must be below start_voltage 50.0" \
  's/    - name: "Primary S21+"/    - name: "Primary S21+"\n      stop_voltage: 51.0/'
expect "a bad URI" "mqtt.uri (line 22:8): 'mqtt://127.0.0.1:1883' must start with tcp:// or ssl://" 's|tcp://127.0.0.1:1883|mqtt://127.0.0.1:1883|'
expect "syntax" "YAML syntax error" 's/  name: e2e/  name: [e2e/'
expect "a voltage source no device gives" "readings.battery_v: 'battery.battery_volts' is not a reading of battery (it has battery_v, battery_a" \
  $'readings:\n  battery_v: [battery.battery_volts, solark.battery_v]'
expect "a temperature source of a unit not configured" "readings.battery_temp_c: 'temp.temp_c' names no configured device unit" \
  $'readings:\n  battery_temp_c: [temp.temp_c]'

# Every error in one run: two typos, one in the loop section and one in a profile, with a
# suggestion each; a voltage no 48 V bank shows is refused with the range.
cp "$dir/good.yaml" "$dir/two.yaml"
sed -i -e 's/  interval_ms: 250/  intervall_ms: 250/' \
  -e 's/    - name: "Primary S21+"/    - name: "Primary S21+"\n      stop_votlage: 46.0/' "$dir/two.yaml"
out=$("$shackd" check --config "$dir/two.yaml" 2>&1)
if [[ $? -eq 78 ]] && grep -qF "loop.intervall_ms (line 7:3): unknown key; did you mean interval_ms?" <<<"$out" &&
  grep -qF "profiles.miners[0].stop_votlage (line 46:7): unknown key; did you mean stop_voltage?" <<<"$out" &&
  grep -qF ": 2 error(s):" <<<"$out"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "FAIL: every error at once: $out"
fi
sed -e 's/    - name: "Primary S21+"/    - name: "Primary S21+"\n      start_voltage: 485.0/' "$dir/good.yaml" >"$dir/volts.yaml"
out=$("$shackd" check --config "$dir/volts.yaml" 2>&1)
[[ $? -eq 78 ]] && grep -qF "profiles.miners[0].start_voltage (line 46:22): miner 'Primary S21+': start_voltage 485.0 V is outside the bank's plausible range 30.0-70.0 V" <<<"$out" &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: an implausible voltage: $out"; }

# The shipped example names every profile key a site can set (set or commented with its default):
# the keys `profiles export` writes are the whole set.
"$shackd" migrate --db "$dir/keys.db" >/dev/null
missing=""
for key in $("$shackd" profiles export --db "$dir/keys.db" | sed -nE 's/^ +-? *([a-z_0-9]+):.*/\1/p' | sort -u); do
  grep -qE "^ *#? *-? *$key:" "$src/config/shackd.example.yaml" || missing+=" $key"
done
[[ -z $missing ]] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: config/shackd.example.yaml lacks:$missing"; }

# The shipped example for a real site is valid as shipped (against a database not created yet).
sed "s|/var/lib/shackd/shackd.db|$dir/example.db|" "$src/config/shackd.example.yaml" >"$dir/example.yaml"
out=$("$shackd" check --config "$dir/example.yaml" 2>&1) && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAIL: config/shackd.example.yaml: $out"; }

# A site written from scratch with its own names passes on a new database, and check says which
# of the example profiles a new database starts with its profiles: section replaces.
printf 'secret\n' >"$dir/mqtt.password"
sed -e "s|/var/lib/shackd/shackd.db|$dir/cabin.db|" -e "s|/etc/shackd/mqtt.password|$dir/mqtt.password|" \
  "$src/config/examples/cabin.yaml" >"$dir/cabin.yaml"
out=$("$shackd" check --config "$dir/cabin.yaml" 2>&1)
if [[ $? -eq 0 ]] && grep -q ": ok (2 relay(s), 1 sensor(s), 2 miner(s), 1 zone(s)" <<<"$out" &&
  grep -qF "miner 'Primary S21+': removed (not named under profiles.miners)" <<<"$out" &&
  grep -qF "zone 'Battery Shed': added" <<<"$out"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "FAIL: config/examples/cabin.yaml: $out"
fi
# A disabled zone needs no relay; two enabled loads cannot share one.
sed -e 's/^      heater_relay: shed_heater/      enabled: false/' -e 's/^      heating_priority_1: heater/      heating_priority_1: none/' \
  "$dir/cabin.yaml" >"$dir/cabin-off.yaml"
out=$("$shackd" check --config "$dir/cabin-off.yaml" 2>&1) && grep -q "relays.shed_heater is defined but no profile switches it" <<<"$out" &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: a disabled zone without a relay: $out"; }
sed -e 's/^      emergency_stop_voltage: 50.0/      emergency_stop_voltage: 50.0\n      relay_id: garage_s9/' -e 's/^      enabled: false$/      enabled: true/' \
  "$dir/cabin.yaml" >"$dir/cabin-shared.yaml"
out=$("$shackd" check --config "$dir/cabin-shared.yaml" 2>&1)
[[ $? -eq 78 ]] && grep -qF "(miner 'Spare S9'): relay_id 'garage_s9' is already switched by miner 'Garage S9'" <<<"$out" &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: a shared relay: $out"; }
# Without a profiles: section, the database's example profiles are named as such.
sed '/^profiles:/,$d' "$dir/cabin.yaml" >"$dir/cabin-noprof.yaml"
out=$("$shackd" check --config "$dir/cabin-noprof.yaml" 2>&1)
[[ $? -eq 78 ]] && grep -qF "this profile is in the database, not in the config" <<<"$out" &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: no profiles: section: $out"; }
# Every file the config names is checked by `check`, and `run` refuses to start on one with one
# clear line and exit 78, never std::terminate (exit 134, a restart loop under systemd).
sed "s|$dir/mqtt.password|$dir/no-such.password|" "$dir/cabin.yaml" >"$dir/cabin-nopw.yaml"
out=$("$shackd" check --config "$dir/cabin-nopw.yaml" 2>&1)
[[ $? -eq 78 ]] && grep -qF "mqtt.password_file '$dir/no-such.password' does not exist" <<<"$out" &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: check with a missing password file: $out"; }
out=$(timeout 20 "$shackd" run --config "$dir/cabin-nopw.yaml" 2>&1)
rc=$?
[[ $rc -eq 78 ]] && grep -qF "no-such.password' does not exist" <<<"$out" && ! grep -q terminate <<<"$out" &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: run with a missing password file: exit $rc: $out"; }
sed "s|$dir/cabin.db|$dir/not-made/cabin.db|" "$dir/cabin.yaml" >"$dir/cabin-nodir.yaml"
out=$("$shackd" check --config "$dir/cabin-nodir.yaml" 2>&1)
[[ $? -eq 78 ]] && grep -qF "the directory $dir/not-made does not exist" <<<"$out" &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: check with a missing database directory: $out"; }
printf '  ca_file: %s/no-ca.pem\n' "$dir" >"$dir/ca.txt"
sed -e "/^  prefix: cabin/r $dir/ca.txt" -e 's|tcp://127.0.0.1:1883|ssl://127.0.0.1:8883|' "$dir/cabin.yaml" >"$dir/cabin-ca.yaml"
out=$("$shackd" check --config "$dir/cabin-ca.yaml" 2>&1)
[[ $? -eq 78 ]] && grep -qF "mqtt.ca_file '$dir/no-ca.pem' does not exist" <<<"$out" &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: check with a missing CA file: $out"; }

# The charge block: both chargers on the bank, only one stopped, is a warning; solark without the
# value to put back, or a limit for a device that is not configured, is an error.
sed 's/  charge_block_action: \[dvcc, solark\].*/  charge_block_action: dvcc/' "$dir/good.yaml" >"$dir/dvcc-only.yaml"
out=$("$shackd" check --config "$dir/dvcc-only.yaml" 2>&1) &&
  grep -qF "warning: safety.charge_block_action stops only the Victron chargers (DVCC) while charging is blocked; the Sol-Ark on the same bank keeps charging a cold battery (add solark to the list)" <<<"$out" &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: a charge block that stops one charger of two: $out"; }
out=$("$shackd" check --config "$dir/good.yaml" 2>&1) && ! grep -q "charge_block_action" <<<"$out" &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: both chargers stopped needs no warning: $out"; }
expect "solark without max_charge_a" "devices.solark.max_charge_a: required with solark in safety.charge_block_action" \
  's/    max_charge_a: 150.*//'
expect "an unknown charge-block action" "safety.charge_block_action (line 39:24): 'gx' must be alarm, dvcc, solark, deye_3p, eg4 or a list of dvcc, solark, deye_3p and eg4" \
  's/  charge_block_action: \[dvcc, solark\].*/  charge_block_action: [gx, solark]/'
expect "max_charge_a out of range" "devices.solark.max_charge_a (line 20:19): 400 is out of range: must be 1 to 290" \
  's/    max_charge_a: 150.*/    max_charge_a: 400/'

# The devices and, for each site quantity, its sources in the order they are used, named as the
# devices' kinds name them; the owner's readings: order is kept; a source whose unit is not
# configured is not offered.
shows() {  # shows NAME CONFIG LINE...: check's output of CONFIG has every LINE
  local name=$1 config=$2 out line; shift 2
  out=$("$shackd" check --config "$config" 2>&1)
  for line in "$@"; do
    grep -qxF -- "$line" <<<"$out" || { failed=$((failed + 1)); printf 'FAIL: %s: no line "%s" in:\n%s\n' "$name" "$line" "$out"; return; }
  done
  passed=$((passed + 1))
}
shows "the devices and their sources" "$dir/good.yaml" \
  "device victron (a Victron GX): tcp 127.0.0.1:5020, units system 100, battery 225" \
  "device solark (a Sol-Ark): tcp 127.0.0.1:5021, unit solark 1" \
  "battery voltage, best first: the battery monitor's voltage (battery.battery_v), the GX system's battery voltage (system.battery_v), the Sol-Ark's battery voltage (solark.battery_v)" \
  "battery temperature, best first: the BMS's coldest cell (battery.min_cell_temp_c), the battery monitor's sensor (battery.battery_temp_c), the Sol-Ark's battery sensor (solark.battery_temp_c)" \
  "PV, summed: system.pv_dc_w, solark.pv1_w, solark.pv2_w, solark.pv3_w, solark.pv4_w" \
  "load, summed: solark.load_w" \
  "on generator power when: system.active_input is 2"
# The old form (devices named after their kinds, no kind:) reads as before and says how to name
# them; with kind: it reads the same and says nothing; two Sol-Arks in parallel are two names.
shows "the old devices: form, read as before, with how to name its devices" "$dir/good.yaml" \
  "warning: devices.solark: a section named after its kind, without kind:, is read as one device named solark; add \`kind: solark\` to it to say so (its readings stay solark.*), or give it a name of your own to configure more than one (solark_a: {kind: solark, ...} reads solark_a.*)" \
  "warning: devices.victron: a section named after its kind, without kind:, is read as one device named victron; add \`kind: victron\` to it to say so (its readings stay system.*), or give it a name of your own to configure more than one (victron_a: {kind: victron, ...} reads victron_a_system.*)"
sed -E 's/^  (victron|solark):$/  \1:\n    kind: \1/' "$dir/good.yaml" >"$dir/named.yaml"
out=$("$shackd" check --config "$dir/named.yaml" 2>&1)
[[ $? -eq 0 ]] && ! grep -q "warning: devices" <<<"$out" &&
  [[ $(grep -E "^(device|battery|PV|load)" <<<"$out") == $("$shackd" check --config "$dir/good.yaml" 2>&1 | grep -E "^(device|battery|PV|load)") ]] &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: the devices with kind: read as the old form: $out"; }
sed -e 's/^  solark:$/  solark_a:/' -e 's/^mqtt:$/  solark_b: {kind: solark, host: 127.0.0.1, port: 5022, max_charge_a: 150}\nmqtt:/' \
  "$dir/named.yaml" >"$dir/parallel.yaml"
shows "two Sol-Arks in parallel" "$dir/parallel.yaml" \
  "device solark_a (a Sol-Ark): tcp 127.0.0.1:5021, unit solark_a 1" \
  "device solark_b (a Sol-Ark): tcp 127.0.0.1:5022, unit solark_b 1" \
  "PV, summed: system.pv_dc_w, solark_a.pv1_w, solark_a.pv2_w, solark_a.pv3_w, solark_a.pv4_w, solark_b.pv1_w, solark_b.pv2_w, solark_b.pv3_w, solark_b.pv4_w" \
  "load, summed: solark_a.load_w, solark_b.load_w"
sed -e '/^  victron:/,/^  solark:/{/^  solark:/!d}' -e 's/  charge_block_action: \[dvcc, solark\].*/  charge_block_action: solark/' \
  "$dir/named.yaml" >"$dir/solark-only.yaml"
shows "a Sol-Ark alone: no word says a generator runs" "$dir/solark-only.yaml" \
  "on generator power: never known (no device says so): the on_generator policies never apply"
printf 'readings:\n  battery_v: [solark.battery_v, system.battery_v]\n' | cat "$dir/good.yaml" - >"$dir/order.yaml"
shows "the owner's order of voltage sources" "$dir/order.yaml" \
  "battery voltage, best first: the Sol-Ark's battery voltage (solark.battery_v), the GX system's battery voltage (system.battery_v)"
sed -e 's/    battery_unit: 225/    battery_unit: null/' -e '/^  solark:/,/^mqtt:/{/^mqtt:/!d}' \
  -e 's/  charge_block_action: \[dvcc, solark\].*/  charge_block_action: dvcc/' "$dir/good.yaml" >"$dir/gx-only.yaml"
shows "a GX without a battery monitor" "$dir/gx-only.yaml" \
  "device victron (a Victron GX): tcp 127.0.0.1:5020, unit system 100" \
  "battery voltage, best first: the GX system's battery voltage (system.battery_v)" \
  "battery temperature, best first: none" \
  "load, summed: system.ac_consumption_l1_w, system.ac_consumption_l2_w, system.ac_consumption_l3_w"
expect "a charge limit of a device that is disabled" \
  "safety.charge_block_action: dvcc writes the DVCC max charge current (GX 2705) of a Victron GX, but no victron device is configured" \
  's/    battery_unit: 225/    battery_unit: 225\n    enabled: false/'
sed -e '/^devices:/,/^mqtt:/{/^mqtt:/!d}' -e 's/  charge_block_action: \[dvcc, solark\].*/  charge_block_action: alarm/' \
  "$dir/good.yaml" >"$dir/none.yaml"
out=$("$shackd" check --config "$dir/none.yaml" 2>&1)
[[ $? -eq 78 ]] && grep -qF "devices: none is configured (of victron, solark, deye_3p, eg4): shackd needs a battery voltage" <<<"$out" &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: no device: $out"; }

# The Solar Shack, written out in full, is an example a site applies on purpose.
sed "s|/var/lib/shackd/shackd.db|$dir/shack.db|" "$src/config/examples/solar-shack.yaml" >"$dir/shack.yaml"
out=$("$shackd" check --config "$dir/shack.yaml" 2>&1) && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAIL: config/examples/solar-shack.yaml: $out"; }
# Its primary is in aggressive mode: a mode never moves a start below the site's restart (50.0 V).
grep -qF "miner 'Primary S21+' (aggressive): starts at 50.00 V, stops below 47.00 V" <<<"$out" &&
  grep -qF "zone 'Main Room' heater: starts at 47.50 V, stops below 47.00 V" <<<"$out" && passed=$((passed + 1)) ||
  { failed=$((failed + 1)); echo "FAIL: check shows the limits in force: $out"; }

# TLS to an IP address: the certificate must name it (shackd verifies the host name).
printf 'other\n' >"$dir/ca.pem"
printf '  ca_file: %s/ca.pem\n' "$dir" >"$dir/ca-ok.txt"
sed -e "/^  prefix: cabin/r $dir/ca-ok.txt" -e 's|tcp://127.0.0.1:1883|ssl://127.0.0.1:8883|' "$dir/cabin.yaml" >"$dir/cabin-tls.yaml"
out=$("$shackd" check --config "$dir/cabin-tls.yaml" 2>&1) &&
  grep -qF "warning: mqtt.uri connects to the IP address 127.0.0.1: shackd checks that the broker's certificate names the host it connects to, so the certificate needs subjectAltName IP:127.0.0.1" <<<"$out" &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: TLS to an IP address: $out"; }
sed -e "/^  prefix: cabin/r $dir/ca-ok.txt" -e 's|tcp://127.0.0.1:1883|ssl://broker.example:8883|' "$dir/cabin.yaml" >"$dir/cabin-tls-name.yaml"
out=$("$shackd" check --config "$dir/cabin-tls-name.yaml" 2>&1) && ! grep -q "subjectAltName" <<<"$out" &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: TLS to a host name needs no warning: $out"; }

# Text that is not UTF-8 (a Latin-1 editor) is refused by check with its path and line: it used to
# pass, then fail every cycle in the JSON of the state (issue 27, S2).
expect "a site name that is not UTF-8" "site.name (line 3:9): not UTF-8 text (byte 0xE9 at byte 4 of the value)" \
  $'s/^  name: e2e/  name: "Caf\xe9"/'
expect "a relay topic that is not UTF-8" "relays.primary_s21.topic" $'s/topic: primary_s21}/topic: "primary_\xff"}/'
expect "a comment that is not UTF-8" "not UTF-8 text (byte 0xE9): save the file as UTF-8" $'1s/$/ caf\xe9/'
expect "a second YAML document" "a second YAML document ('---'): shackd reads one" $'---\nsite: {name: other}'
expect "a 5000-byte site name" "site.name (line 3:9): 5000 bytes long: at most 4096" "s/^  name: e2e/  name: $(printf 'x%.0s' {1..5000})/"
# Issue 48's minor findings, each refused or warned with its rule.
expect "text after a '...'" "(line 59): text after the end of the YAML document ('...' ends it): shackd would ignore it" \
  $'...\nsite: {name: other}'
expect "a NUL in site.name" "site.name (line 3:9): a control character (0x00) at byte 3 of the value: not text" \
  's/^  name: e2e/  name: "e2\\0e"/'
expect "the same device twice" "devices.solark: 127.0.0.1:5021 unit 1 is devices.solark_b again: the same device read twice would count its PV and load twice" \
  's/^  solark:$/  solark_b: {kind: solark, transport: tcp, host: 127.0.0.1, port: 5021, max_charge_a: 150}\n  solark:/'
printf 'metrics:\n  listen: 0.0.0.0:9466\n' >"$dir/open.txt"
cat "$dir/good.yaml" "$dir/open.txt" >"$dir/open.yaml"
out=$("$shackd" check --config "$dir/open.yaml" 2>&1) &&
  grep -qF "warning: metrics.listen 0.0.0.0:9466 serves the site's figures on every network this machine is on, to anyone" <<<"$out" &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: metrics.listen 0.0.0.0 without a token is said: $out"; }
# The database's directory as the service's user sees it: mktemp's is root's, 0700.
if [[ $(id -u) -eq 0 ]] && id nobody >/dev/null 2>&1; then
  out=$("$shackd" check --config "$dir/good.yaml" --as nobody 2>&1)
  [[ $? -eq 78 ]] && grep -qF "database.path '$dir/none.db': $dir is root:root 0700: nobody may not write in it, the user the service runs as" <<<"$out" &&
    passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: check --as nobody on a directory it cannot write: $out"; }
fi

# The AC budget (issue 59): a load whose draw plus the margin can never fit its source's phase is
# refused, by check and by run, naming the load, the source, the phase, both figures and the rule;
# loads that cannot all run at once on one phase are a note (the budget holds the rest), not an
# error. The heaters need their draw on a rated source; the disabled Dump Load is not counted.
sed -e 's/^    - name: Heat Room$/    - name: Heat Room\n      heater_power_w: 1500/' \
  -e 's/^    - name: Main Room$/    - name: Main Room\n      heater_power_w: 1500/' "$dir/good.yaml" >"$dir/heaters.yaml"
printf 'ac_sources:\n  inverter: {phases: 2, continuous_w: 6000}\n' | cat "$dir/heaters.yaml" - >"$dir/ac-note.yaml"
out=$("$shackd" check --config "$dir/ac-note.yaml" 2>&1)
rc=$?
[[ $rc -eq 0 ]] && grep -qxF "note: at most 2 of 3 loads at once on inverter 'inverter' L1: together 6878 W of 5800 W (continuous_w 6000 W less margin_w 200 W); a start waits for room (miner 'Primary S21+' 3878 W, zone 'Heat Room' heater 1500 W, zone 'Main Room' heater 1500 W)" <<<"$out" &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: loads above an inverter's rating together: a note, exit 0: exit $rc: $out"; }
sed 's/^    - name: "Primary S21+"$/    - name: "Primary S21+"\n      phase: 2/' "$dir/heaters.yaml" |
  { cat; printf 'ac_sources:\n  inverter: {phases: 2, continuous_w: 3500}\n'; } >"$dir/ac-never.yaml"
never="power_w 3878.0 plus margin_w 200.0 is above the continuous_w 3500.0 of AC source 'inverter' phase L2: it could never start (a start needs its draw plus margin_w within the continuous rating, with nothing else on)"
out=$("$shackd" check --config "$dir/ac-never.yaml" 2>&1)
rc=$?
[[ $rc -eq 78 ]] && grep -qF "miner 'Primary S21+': $never" <<<"$out" && ! grep -q "note: " <<<"$out" &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: a load that can never fit its phase is refused: exit $rc: $out"; }
sed "s|$dir/none.db|$dir/ac-never.db|" "$dir/ac-never.yaml" >"$dir/ac-never-run.yaml"
out=$(timeout 20 "$shackd" run --config "$dir/ac-never-run.yaml" 2>&1)
rc=$?
[[ $rc -eq 78 ]] && grep -qF "$never" <<<"$out" &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: run refuses a load that can never fit its phase: exit $rc: $out"; }

# A 2 kB YAML alias bomb (nine lists of nine aliases to the list before: 9^9 scalars) is refused
# at once by check and by run (issue 48: the UTF-8 walk went through aliases and hung both).
bomb() {
  printf 'bomb:\n  l0: &l0 ["lol lol lol", "lol lol lol", "lol lol lol", "lol lol lol", "lol lol lol", "lol lol lol", "lol lol lol", "lol lol lol", "lol lol lol"]\n'
  for l in 1 2 3 4 5 6 7 8 9; do
    p="*l$((l - 1))"
    printf '  l%s: &l%s [%s, %s, %s, %s, %s, %s, %s, %s, %s]\n' "$l" "$l" "$p" "$p" "$p" "$p" "$p" "$p" "$p" "$p" "$p"
  done
}
{ cat "$dir/good.yaml"; bomb; } >"$dir/bomb.yaml"
out=$(timeout 20 "$shackd" check --config "$dir/bomb.yaml" 2>&1)
rc=$?
[[ $rc -eq 78 ]] && grep -qF "expands to more than 100000 values" <<<"$out" &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: check on an alias bomb: exit $rc: $out"; }
out=$(timeout 20 "$shackd" run --config "$dir/bomb.yaml" 2>&1)
rc=$?
[[ $rc -eq 78 ]] && grep -qF "expands to more than 100000 values" <<<"$out" &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: run on an alias bomb: exit $rc: $out"; }
out=$("$shackd" check --config "$dir" 2>&1)
[[ $? -eq 78 ]] && grep -qF "$dir: is a directory, not a config file" <<<"$out" &&
  passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: a directory as --config: $out"; }

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
