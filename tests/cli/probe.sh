#!/usr/bin/env bash
# `shackd probe` against the simulator: it finds each service's unit id, tells the GX's map
# generation, checks the Sol-Ark and an EG4, and its devices: block is accepted by `shackd check`; with
# nothing listening it says so, exit 69, at once. Against a server that is no GX (one answering every
# unit and register, one whose frames lie about their length, a slow one) it takes nothing it
# doubts, says so, and keeps its time budget.
# Usage: probe.sh path/to/shackd path/to/shackd-sim path/to/source
set -uo pipefail
shackd=${1:?usage: probe.sh SHACKD SHACKD_SIM SRC}
sim=${2:?usage: probe.sh SHACKD SHACKD_SIM SRC}
src=${3:?usage: probe.sh SHACKD SHACKD_SIM SRC}
dir=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$dir"' EXIT
passed=0 failed=0
check() {  # check NAME CONDITION
  if eval "$2"; then passed=$((passed + 1)); else failed=$((failed + 1)); printf 'FAIL: %s\n%s\n' "$1" "$out"; fi
}

# start_sim NAME [args...]: sets vport and sport
start_sim() {
  local name=$1 ready
  shift
  mkfifo "$dir/$name.in"
  "$sim" --victron-port 0 --solark-port 0 "$@" <"$dir/$name.in" >"$dir/$name.out" 2>&1 &
  pids+=($!)
  exec {fd}>"$dir/$name.in"
  for _ in $(seq 50); do grep -q '^ready' "$dir/$name.out" && break; sleep 0.1; done
  ready=$(grep '^ready' "$dir/$name.out") || { echo "FAIL: simulator did not start: $(cat "$dir/$name.out")"; exit 1; }
  vport=$(sed -E 's/.*victron=127.0.0.1:([0-9]+).*/\1/' <<<"$ready")
  sport=$(sed -E 's/.*solark=127.0.0.1:([0-9]+).*/\1/' <<<"$ready")
}

# A site with other unit ids than the defaults: the battery monitor on 238 (a VE.Direct USB
# port), the solar charger on 239, the temperature sensor on 24.
# Its inverter rated 9000 W: the Sol-Ark serves it as its rated power (16-17, sim/solark_map.hpp).
start_sim newest --battery-unit 238 --charger-unit 239 --battery-v 52.3 --internal-ohm 0 --house-w 0 --inverter-w 9000
out=$("$shackd" probe --victron "127.0.0.1:$vport" --solark "127.0.0.1:$sport" 2>&1); rc=$?
check "probe exits 0 when both answer (exit $rc)" '[[ $rc -eq 0 ]]'
check "the system on unit 100" 'grep -qE "^#   unit 100: system: 52.3 V" <<<"$out"'
check "the battery monitor found on 238" 'grep -qE "^#   unit 238: battery monitor: 52.30 V, 20.0 °C" <<<"$out"'
check "the solar charger found on 239" 'grep -qE "^#   unit 239: solar charger" <<<"$out"'
check "the temperature sensor found on 24" 'grep -qE "^#   unit  24: temperature sensor: 20.0 °C" <<<"$out"'
check "the Sol-Ark's family from its device type (register 0)" \
  'grep -qxF "#   device type 0x0003: a Deye/Sunsynk/Sol-Ark single-phase hybrid" <<<"$out"'
check "the newest map" 'grep -qF "# its Modbus map: dbus-modbustcp v1.0.95 or later" <<<"$out"'
check "the Sol-Ark's values" 'grep -qE "^#   battery 52.25 V, 20.0 °C" <<<"$out"'
check "the devices: block" 'grep -qE "^    battery_unit: 238$" <<<"$out" && grep -qE "^    charger_units: \[239\]$" <<<"$out" &&
  grep -qE "^    temperature_unit: 24$" <<<"$out"'
# Its rated power (kellerza/sunsynk single_phase.py: RATED_POWER, 16-17, 0.1 W, the low word
# first), offered as a commented ac_sources: block, both legs summed (issue 59).
check "the Sol-Ark's rated power, and an ac_sources: block for it" \
  'grep -qxF "#   rated power 9000 W (registers 16-17: the model'"'"'s nameplate)" <<<"$out" &&
   grep -qE "^    #       continuous_w: 9000$" <<<"$out" &&
   grep -qxF "    #       load_w_l1: [solark.load_l1_w, solark.load_l2_w]" <<<"$out"'
first_out=$out

# A GX that answers as dbus_modbustcp does (0x0A for a register whose service the unit id lacks:
# mappings.cpp, DataIterator -> getService -> ServiceError; 0x02 for an address the map lacks):
# a BMS on 225, solar chargers on 226 and 224 (the Cerbo's VE.Direct ports), a VE.Bus Multi on
# 227, a temperature sensor on 24. Each one found, and the devices: block names every one shackd
# reads. (A probe that took 0x0A to 259 for "nothing at this unit id" listed 100 and 225 only.)
start_sim gx --bms-min-cell-c 12 --more-charger-unit 224 --vebus-unit 227 --inverter-w 7000 --battery-v 52.3 --internal-ohm 0 --house-w 0
out=$("$shackd" probe --victron "127.0.0.1:$vport" 2>&1); rc=$?
check "probe exits 0 on a GX with every service (exit $rc)" '[[ $rc -eq 0 ]]'
check "the BMS on 225" 'grep -qE "^#   unit 225: battery \(a BMS\): 52.30 V" <<<"$out"'
check "both solar chargers, on 224 and 226" 'grep -qE "^#   unit 224: solar charger" <<<"$out" && grep -qE "^#   unit 226: solar charger" <<<"$out"'
check "the VE.Bus Multi on 227" 'grep -qE "^#   unit 227: VE.Bus inverter/charger: 52.30 V" <<<"$out"'
check "the temperature sensor on 24" 'grep -qE "^#   unit  24: temperature sensor" <<<"$out"'
check "the devices: block gives the site each of them" 'grep -qE "^    battery_unit: 225$" <<<"$out" &&
  grep -qE "^    charger_units: \[224, 226\]$" <<<"$out" && grep -qE "^    temperature_unit: 24$" <<<"$out" &&
  grep -qE "^    vebus_unit: 227$" <<<"$out"'
# Its nominal power (attributes.csv: /Ac/Out/NominalInverterPower, 130): the AC source's rating
# offered as a commented ac_sources: block (issue 59), which check takes as it is.
check "the Multi's nominal power, and an ac_sources: block for it" \
  'grep -qE "^#   unit 227: VE.Bus inverter/charger: 52.30 V, nominal inverter power 7000 W" <<<"$out" &&
   grep -qE "^    #       continuous_w: 7000$" <<<"$out"'
rated_out=$out
requests=$(sed -nE 's/^# ([0-9]+) requests$/\1/p' <<<"$out")
# Four services asked at each of the 247 unit ids (the rule judges a read by its first register's
# service alone), the system once, the found services' details and the map's generation: no more.
check "one request per service per unit id, and the details ($requests)" '[[ $requests -ge 989 && $requests -le 1010 ]]'

# The daemon's own reads: a battery_unit that is a solar charger's answers 0x0A to the battery's
# block; `once` says so, once, naming the rule, and reads the rest.
gx_out=$out
# probed_config OUT ACTION: probe's whole output (comments and all) in place of the e2e config's
# devices: section, with ACTION as the charge block.
probed_config() {
  {
    sed -n '1,/^devices:/p' "$src/tests/e2e/e2e.yaml" | sed '$d'
    printf '%s\n' "$out"
    sed -n '/^mqtt:/,$p' "$src/tests/e2e/e2e.yaml"
  } | sed -e "s|\${DB}|$dir/none.db|" -e 's|\${MQTT_PORT}|1883|' \
        -e "s/  charge_block_action: .*/  charge_block_action: $2/" >"$1"
}

out=$(sed 's/^    battery_unit: 225$/    battery_unit: 226/' <<<"$gx_out")
probed_config "$dir/wrong_unit.yaml" dvcc
once_out=$("$shackd" once --config "$dir/wrong_unit.yaml" --sensor-wait-s 0 2>&1)
out="$once_out"
check "once: a battery_unit without a battery service is said (once a block), with the rule" \
  'grep -qE "^[0-9:]+ warn: victron battery: unit 226 registers 259\+[0-9]+: exception: 0x0A gateway path unavailable \(no service of that kind at this unit id\); this unit id has no service of that kind" <<<"$once_out" &&
   [[ $(grep -c "no service of that kind (a wrong unit id" <<<"$once_out") -eq 2 ]]'

# The whole output (of the first site's probe) replaces the devices: section of a config: check
# accepts it.
out=$first_out
probed_config "$dir/probed.yaml" dvcc
check_out=$("$shackd" check --config "$dir/probed.yaml" 2>&1); rc=$?
out="$check_out"
check "check accepts the probed devices: block as it is, named (exit $rc)" '[[ $rc -eq 0 ]] && grep -q ": ok (" <<<"$check_out" && ! grep -q "warning: devices" <<<"$check_out"'

# The GX's block with its ac_sources: lines uncommented at the top level: check takes them, and
# the rating is in force (this config's heaters have no heater_power_w: the budget asks for it).
out=$rated_out
probed_config "$dir/rated.yaml" dvcc
sed -nE 's/^    #   ((ac_sources:|  ).*)$/\1/p' <<<"$rated_out" | grep -v "^  *(where" >>"$dir/rated.yaml"
check_out=$("$shackd" check --config "$dir/rated.yaml" 2>&1); rc=$?
out="$check_out"
check "check takes the probed ac_sources: block uncommented: no error in it, its rating in force" \
  'grep -q "^ac_sources:" "$dir/rated.yaml" && ! grep -q "ac_sources" <<<"$check_out" &&
   grep -q "AC source .inverter. has a rating, and its budget needs the draw" <<<"$check_out"'

# The same for the Sol-Ark's block: check takes it, and the rating is in force.
out=$first_out
probed_config "$dir/solark_rated.yaml" dvcc
sed -nE 's/^    #   ((ac_sources:|  ).*)$/\1/p' <<<"$first_out" >>"$dir/solark_rated.yaml"
check_out=$("$shackd" check --config "$dir/solark_rated.yaml" 2>&1); rc=$?
out="$check_out"
check "check takes the Sol-Ark's ac_sources: block uncommented: no error in it, its rating in force" \
  'grep -q "^ac_sources:" "$dir/solark_rated.yaml" && ! grep -q "ac_sources" <<<"$check_out" &&
   grep -q "AC source .inverter. has a rating, and its budget needs the draw" <<<"$check_out"'
# A Sol-Ark that reports no rated power (0): said, and no block.
start_sim unrated --battery-v 52.3 --internal-ohm 0 --house-w 0
out=$("$shackd" probe --solark "127.0.0.1:$sport" 2>&1); rc=$?
check "a rated power of 0 is not reported, and no ac_sources: block (exit $rc)" \
  '[[ $rc -eq 0 ]] && grep -qxF "#   rated power: reads 0: not reported (registers 16-17)" <<<"$out" && ! grep -q "ac_sources" <<<"$out"'

# An EG4 (the simulator's --device, from its kind's tables): its battery, SOC and SOH from input
# registers, its charging current from holding 101, and a block check accepts; a Sol-Ark probed
# as an EG4 reads implausible values: exit 69.
start_sim eg4 --device eg4=eg4:0 --battery-v 52.3 --internal-ohm 0 --house-w 0
eport=$(sed -nE 's/^ready .* eg4=127.0.0.1:([0-9]+).*/\1/p' "$dir/eg4.out")
out=$("$shackd" probe --eg4 "127.0.0.1:$eport" 2>&1); rc=$?
check "an EG4 answers: battery, SOC, SOH and its charging current (exit $rc)" \
  '[[ $rc -eq 0 ]] && grep -qxF "#   battery 52.3 V, SOC 65 %, SOH 98 %; charging current (hold 101) 100 A" <<<"$out"'
probed_config "$dir/eg4.yaml" eg4
check_out=$("$shackd" check --config "$dir/eg4.yaml" 2>&1); rc=$?
out="$check_out"
check "check accepts the EG4's block, its charge block and all (exit $rc)" \
  '[[ $rc -eq 0 ]] && grep -qxF "device eg4 (an EG4 or Luxpower inverter): tcp 127.0.0.1:$eport, units eg4 1, eg4_settings 1" <<<"$out"'
out=$("$shackd" probe --eg4 "127.0.0.1:$sport" 2>&1); rc=$?
check "a Sol-Ark probed as an EG4: implausible, exit 69 (got $rc)" '[[ $rc -eq 69 ]] && grep -q "^#   implausible: battery_v" <<<"$out"'

# A low-voltage three-phase Deye (device type 0x0005): probe --deye names it and prints its kind.
start_sim deye --device d3=deye_3p:0 --battery-v 52.3 --internal-ohm 0 --house-w 0
dport=$(sed -nE 's/^ready .* d3=127.0.0.1:([0-9]+).*/\1/p' "$dir/deye.out")
out=$("$shackd" probe --deye "127.0.0.1:$dport" 2>&1); rc=$?
check "a three-phase Deye told by its device type, its block under its kind (exit $rc)" \
  '[[ $rc -eq 0 ]] && grep -qxF "#   device type 0x0005: a Deye/Sunsynk low-voltage three-phase hybrid" <<<"$out" &&
   grep -qxF "  deye_3p:" <<<"$out" && grep -qxF "    kind: deye_3p" <<<"$out" && grep -qE "^#   battery 52.25 V" <<<"$out"'

# Older GX firmware, a monitor without a temperature sensor, and a BMS.
start_sim old --gx-firmware 1.0.90 --no-battery-temp-sensor
out=$("$shackd" probe --victron "127.0.0.1:$vport" 2>&1)
check "v1.0.85-1.0.94 told" 'grep -qF "dbus-modbustcp v1.0.85 to v1.0.94" <<<"$out"'
check "a monitor without a sensor told" 'grep -qE "^#   unit 225: battery monitor: .*, no temperature sensor" <<<"$out"'
start_sim older --gx-firmware 1.0.70 --bms-min-cell-c 4.5
out=$("$shackd" probe --victron "127.0.0.1:$vport" 2>&1)
check "before v1.0.78 told" 'grep -qF "dbus-modbustcp older than v1.0.78" <<<"$out"'
check "a BMS told, with its coldest cell" 'grep -qE "^#   unit 225: battery \(a BMS\): .*coldest cell 4.5 °C" <<<"$out"'
# A BMS on a cold night: its charge limit is 0 A, shown as such.
start_sim cold --bms-min-cell-c -3
out=$("$shackd" probe --victron "127.0.0.1:$vport" 2>&1)
check "a cold BMS told, with its 0 A limit" 'grep -qE "^#   unit 225: battery \(a BMS\): .*coldest cell -3.0 °C, charge limit 0.0 A" <<<"$out"'

# shackd-sim --miner: each firmware's API on its own port, dead while its load's relay is off,
# answering once powered and booted; probe --miner finds each by its own protocol.
# A miner that answers is given 2 s a reply (a probe under ASan beside two builds once took longer
# than 300 ms over the version and left it out); one that does not answer keeps 300 ms.
answer_ms=2000
start_sim miners --load primary=3250 --miner primary=luxos:0 --load dump=3000 --miner dump=braiins:0 --miner-boot-s 1
lport=$(sed -nE 's/^ready .* miner.primary=127.0.0.1:([0-9]+).*/\1/p' "$dir/miners.out")
bport=$(sed -nE 's/^ready .* miner.dump=127.0.0.1:([0-9]+).*/\1/p' "$dir/miners.out")
out=$("$shackd" probe --miner "127.0.0.1:$lport" --timeout-ms 300 2>&1); rc=$?
check "an unpowered miner does not answer: exit 69 (got $rc)" '[[ $rc -eq 69 ]]'
echo "load primary on" >&"$fd"
echo "load dump on" >&"$fd"
for _ in $(seq 50); do
  out=$("$shackd" probe --miner "127.0.0.1:$lport" --timeout-ms "$answer_ms" 2>&1) && break
  sleep 0.1
done
check "the LuxOS miner found once powered, mining, its power targets from atm" \
  'grep -qE "^# LuxOS \(Luxor firmware\) on port $lport: LUXminer 2026.11.1-sim, mining, [0-9]+ W" <<<"$out" &&
   grep -qxF "# its power targets: 800-3600 W (now 3250 W)" <<<"$out"'
out=$(SHACKD_MINER_PASSWORD=sim-secret "$shackd" probe --miner "127.0.0.1:$bport" --timeout-ms "$answer_ms" 2>&1); rc=$?
check "the Braiins OS miner found over HTTP, with its target range (exit $rc)" \
  '[[ $rc -eq 0 ]] && grep -qxF "# its power targets: 800-3600 W (default 3000 W)" <<<"$out"'

# Whatsminer API v3 (4433-style, length-framed) and API v2 (bare JSON on 4028) told apart, each
# with its rated power; the block, its target uncommented on the dump load (which runs on the
# surplus), is accepted by check.
start_sim whatsminers --load primary=3400 --miner primary=whatsminer:0 --load dump=3300 --miner dump=whatsminer_v2:0 --miner-boot-s 1
w3port=$(sed -nE 's/^ready .* miner.primary=127.0.0.1:([0-9]+).*/\1/p' "$dir/whatsminers.out")
w2port=$(sed -nE 's/^ready .* miner.dump=127.0.0.1:([0-9]+).*/\1/p' "$dir/whatsminers.out")
echo "load primary on" >&"$fd"
echo "load dump on" >&"$fd"
for _ in $(seq 50); do
  out=$("$shackd" probe --miner "127.0.0.1:$w2port" --timeout-ms "$answer_ms" 2>&1) && break
  sleep 0.1
done
check "Whatsminer API v2 named, with its rated power" \
  'grep -qE "^# Whatsminer \(btminer API v2\) on port $w2port: Whatsminer API v2 2.0.5, firmware 20230911.22.REL, mining" <<<"$out" &&
   grep -qxF "# its power targets: 0-100 % of 3300 W (its power limit as it reports it)" <<<"$out" &&
   grep -qxF "    kind: whatsminer_v2" <<<"$out"'
# miner_config OUT: the e2e config and probe's miners: block for the dump load, its target on.
miner_config() {
  {
    sed -e "s|\${DB}|$dir/none.db|" -e 's|\${MQTT_PORT}|1883|' -e 's|\${VICTRON_PORT}|502|' -e 's|\${SOLARK_PORT}|503|' \
      "$src/tests/e2e/e2e.yaml"
    sed -e 's/your_relay_id/dump_s19_1/' -e 's/CHANGE-ME/changed-pw/' -e 's/^    # target:/    target:/' <<<"$out"
  } >"$1"
}
miner_config "$dir/v2.yaml"
check_out=$("$shackd" check --config "$dir/v2.yaml" 2>&1); rc=$?
out="$check_out"
check "check accepts the Whatsminer v2 block with its target (exit $rc)" '[[ $rc -eq 0 ]] && grep -q "^    target: {min_w: 1100, max_w: 3300, step_w: 100, rated_w: 3300}" "$dir/v2.yaml"'
out=$("$shackd" probe --miner "127.0.0.1:$w3port" --timeout-ms "$answer_ms" 2>&1); rc=$?
check "Whatsminer API v3 named, with its rated power (exit $rc)" \
  '[[ $rc -eq 0 ]] && grep -qE "^# Whatsminer \(btminer API v3\) on port $w3port: Whatsminer API v3, mining" <<<"$out" &&
   grep -qxF "# its power targets: 0-100 % of 3400 W (its power limit as it reports it)" <<<"$out" &&
   grep -qxF "    kind: whatsminer" <<<"$out" && grep -qxF "    port: $w3port" <<<"$out"'
miner_config "$dir/v3.yaml"
check_out=$("$shackd" check --config "$dir/v3.yaml" 2>&1); rc=$?
out="$check_out"
check "check accepts the Whatsminer v3 block with its target (exit $rc)" '[[ $rc -eq 0 ]]'

# A server that is no GX (issue 56; tests/cli/hostile_modbus.py). One that answers every unit id and
# every register: main's probe listed 989 services, a 512 V system and a 512 °C battery, and
# proposed battery_unit: 100. It is asked an address no GX map holds, answers it, and is taken
# for nothing, said so, exit 69.
# start_hostile NAME MODE [ARG]: sets hport
start_hostile() {
  python3 "$src/tests/cli/hostile_modbus.py" "$2" ${3:+"$3"} >"$dir/$1.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do grep -q '^ready' "$dir/$1.out" && break; sleep 0.1; done
  hport=$(sed -nE 's/^ready ([0-9]+)$/\1/p' "$dir/$1.out")
  [[ -n $hport ]] || { echo "FAIL: the hostile server did not start: $(cat "$dir/$1.out")"; exit 1; }
}
start_hostile every every 5120
out=$(timeout 60 "$shackd" probe --victron "127.0.0.1:$hport" --timeout-ms 500 2>&1); rc=$?
check "a server answering every unit and register: exit 69 (got $rc)" '[[ $rc -eq 69 ]]'
check "it says why it doubts it: an address no GX serves" \
  'grep -qE "^# doubted: unit 100 answers register 0 \(5120\), which no GX serves" <<<"$out"'
check "no service listed, no battery_unit proposed" '! grep -qE "^#   unit +[0-9]+: " <<<"$out" && ! grep -q "battery_unit" <<<"$out"'
asked=$(sed -nE "s/^# not taken as a GX: .*\(([0-9]+) requests\)$/\1/p" <<<"$out")
check "a handful of requests, not a thousand (${asked:-none said})" '[[ -n $asked && $asked -le 3 ]]'
# Its frames with a false MBAP length (200 where 5 bytes follow): libmodbus reads them by their
# function code and takes them; probe checks the frame, takes no value from them, and says so.
start_hostile mbap mbap 5120
out=$(timeout 60 "$shackd" probe --victron "127.0.0.1:$hport" --timeout-ms 500 2>&1); rc=$?
check "frames whose MBAP length lies: no value taken, said, exit 69 (got $rc)" \
  '[[ $rc -eq 69 ]] && grep -qE "^# (doubted|no answer from the GX): .*unit 100 register 840: a reply that does not match its request: its MBAP length says 200 bytes follow, 5 came" <<<"$out" &&
   ! grep -qE "^#   unit +[0-9]+: " <<<"$out"'
# A GX with nothing behind it that answers each request in 0.9 s: --budget-s 3 is a deadline,
# every request within it (main's probe looked at the budget only between unit ids, four
# requests each, then read the map's generation: 30 s ran to 42 s and 66 s).
start_hostile slow slow 0.9
# What a start and an exit alone take here (under qemu-user on a loaded CI runner, over 500 ms:
# CI once measured 3531 ms for the whole), so that the check is on the budget, not the emulator:
# the longest of three, and twice it allowed, as one fast start measured beside a slow budget run
# would still blame the budget for the runner's load. The bug it guards ran to 42 s and 66 s.
start_ms=0
for _ in 1 2 3; do
  t0=$(date +%s%N)
  "$shackd" probe >/dev/null 2>&1
  took=$(( ($(date +%s%N) - t0) / 1000000 ))
  (( took > start_ms )) && start_ms=$took
done
# A run past the bound is tried once more, and only two past it fail: CI (native, beside the
# sanitizers' build, 2026-11-29) once saw 6897 ms where starts took 14 ms, a stall this machine did
# not reproduce under six busy loops (2.6 s each time). The bug it guards overran every time.
budget_run() {
  local t0
  t0=$(date +%s%N)
  out=$(timeout 60 "$shackd" probe --victron "127.0.0.1:$hport" --timeout-ms 1000 --budget-s 3 2>&1); rc=$?
  elapsed_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
}
budget_run
if (( elapsed_ms >= 3500 + 2 * start_ms )); then
  echo "note: --budget-s 3 took ${elapsed_ms} ms; tried once more"
  budget_run
fi
check "--budget-s 3 kept: done in ${elapsed_ms} ms (a start and exit alone: at most ${start_ms} ms)" '(( elapsed_ms < 3500 + 2 * start_ms ))'
check "and it says where the budget ran out" 'grep -qE "^# the time budget ran out (after unit [0-9]+|at unit 100, before unit 1): pass --budget-s to scan further" <<<"$out"'

# Nothing there: a clear line and exit 69, quickly (a refused connection is not retried).
out=$(timeout 20 "$shackd" probe --victron 127.0.0.1:1 --timeout-ms 200 2>&1); rc=$?
check "nothing listening: exit 69 (got $rc)" '[[ $rc -eq 69 ]] && grep -q "^# no answer from the GX" <<<"$out"'
out=$("$shackd" probe 2>&1); rc=$?
check "no device named: usage, exit 64" '[[ $rc -eq 64 ]] && grep -q "give --victron HOST" <<<"$out"'
out=$("$shackd" probe --victron 127.0.0.1:99999 2>&1); rc=$?
check "a bad port: usage, exit 64" '[[ $rc -eq 64 ]] && grep -q "the port must be 1 to 65535" <<<"$out"'

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
