#!/usr/bin/env bash
# An independent Modbus client (Debian's mbpoll) reads the simulator at the documented
# addresses and scales (docs/registers.md): the simulator is not only right by our own decoder.
# Usage: mbpoll_sim.sh path/to/shackd-sim
set -uo pipefail
sim=${1:?usage: mbpoll_sim.sh SHACKD_SIM}
command -v mbpoll >/dev/null || { echo "FAIL: mbpoll is not installed (scripts/setup.sh installs it)"; exit 1; }
dir=$(mktemp -d)
mkfifo "$dir/in"
"$sim" --victron-port 0 --solark-port 0 --battery-v 52.30 --internal-ohm 0 --house-w 0 --pv-w 0 \
  --device eg4=eg4:0 --device solark_b=solark:0 <"$dir/in" >"$dir/out" 2>&1 &
pid=$!
exec 3>"$dir/in"  # keep the simulator's stdin open
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do grep -q '^ready' "$dir/out" && break; sleep 0.1; done
ready=$(grep '^ready' "$dir/out") || { echo "FAIL: simulator did not start: $(cat "$dir/out")"; exit 1; }
vport=$(sed -E 's/.*victron=127.0.0.1:([0-9]+).*/\1/' <<<"$ready")
sport=$(sed -E 's/.* solark=127.0.0.1:([0-9]+).*/\1/' <<<"$ready")
eport=$(sed -E 's/.* eg4=127.0.0.1:([0-9]+).*/\1/' <<<"$ready")
bport=$(sed -E 's/.* solark_b=127.0.0.1:([0-9]+).*/\1/' <<<"$ready")
passed=0 failed=0

# read UNIT PORT ADDRESS: the raw value mbpoll prints (-0: 0-based wire addresses; -1: one poll)
read_reg() { mbpoll -0 -1 -m tcp -p "$2" -a "$1" -r "$3" -c 1 127.0.0.1 2>&1 | sed -nE "s/^\[$3\]:[[:space:]]+([0-9]+).*/\1/p"; }
expect() {  # NAME UNIT PORT ADDRESS RAW
  local got
  got=$(read_reg "$2" "$3" "$4")
  if [[ $got == "$5" ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $1: register $4 unit $2 read '$got', want $5"; fi
}

expect "GX system battery voltage (840, /10)" 100 "$vport" 840 523
expect "GX battery monitor voltage (259, /100)" 225 "$vport" 259 5230
expect "GX battery temperature (262, /10)" 225 "$vport" 262 200
expect "Sol-Ark battery voltage (183, x0.01, 5 cm of cable drop)" 1 "$sport" 183 5225
expect "Sol-Ark battery temperature (182, x0.1 - 100)" 1 "$sport" 182 1200
expect "Sol-Ark grid frequency (79, x0.01)" 1 "$sport" 79 6000

# Devices served from their kinds' tables (--device): an EG4's input registers (function 4,
# mbpoll -t 3), its SOC (65 %) in the low byte of 5 and its SOH (98 %) in the high byte, and
# its charging current (holding 101); a second Sol-Ark on a port of its own.
read_input() { mbpoll -0 -1 -t 3 -m tcp -p "$2" -a "$1" -r "$3" -c 1 127.0.0.1 2>&1 | sed -nE "s/^\[$3\]:[[:space:]]+([0-9]+).*/\1/p"; }
got=$(read_input 1 "$eport" 4)
# 52.30 V less 5 cm of cable, 52.25 V, at 0.1 V: 523 (rounded half away)
if [[ $got == 523 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: EG4 input 4 read '$got', want 523"; fi
got=$(read_input 1 "$eport" 5)
if [[ $got == $((98 * 256 + 65)) ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: EG4 input 5 read '$got', want $((98 * 256 + 65))"; fi
expect "EG4 charging current (holding 101, A)" 1 "$eport" 101 100
expect "a second Sol-Ark's battery voltage (183)" 1 "$bport" 183 5225
answer=$(mbpoll -0 -1 -m tcp -p "$eport" -a 1 -r 4 -c 1 127.0.0.1 2>&1)
# No value line ("[4]: ..."): a bare "523" would also match a port number in mbpoll's banner.
if grep -qi "Illegal data address" <<<"$answer" && ! grep -qE '^\[4\]:' <<<"$answer"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "FAIL: function 3 at 4 on the EG4 (its settings, where 4 is not served) did not refuse: $answer"
fi

# Inverters in parallel share the inverters' PV (half of 2000 W is theirs: 300 W on each one's
# PV1, 60 % of its half), and a charge limit at 0 A on any of them (the EG4's 101, written by
# mbpoll) holds their PV back: with no load, nothing is produced.
expect_soon() {  # NAME UNIT PORT ADDRESS RAW: within 2 s (the model steps every 50 ms)
  local got
  for _ in $(seq 20); do got=$(read_reg "$2" "$3" "$4"); [[ $got == "$5" ]] && break; sleep 0.1; done
  if [[ $got == "$5" ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $1: register $4 unit $2 read '$got', want $5"; fi
}
echo "set pv_w 2000" >&3
expect_soon "the Sol-Ark's share of PV1 (186), two in parallel" 1 "$sport" 186 300
expect "the second Sol-Ark's share of PV1 (186)" 1 "$bport" 186 300
mbpoll -0 -1 -m tcp -p "$eport" -a 1 -r 101 127.0.0.1 0 >/dev/null 2>&1
expect_soon "an EG4 held at 0 A holds the inverters' PV back" 1 "$sport" 186 0
expect "the EG4's 101 as written" 1 "$eport" 101 0

# A unit with no service behind it: the GX's 0x0A.
answer=$(mbpoll -0 -1 -m tcp -p "$vport" -a 77 -r 840 -c 1 127.0.0.1 2>&1)
if grep -q "Gateway path unavailable" <<<"$answer"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "FAIL: unit 77 did not answer 0x0A"
fi

# A GX on dbus-modbustcp 1.0.90 (before the reserved registers were served): mbpoll sees a read
# across 847-849 refused with 0x02 and the registers around it served.
"$sim" --victron-port 0 --solark-port 0 --battery-v 52.30 --internal-ohm 0 --house-w 0 --gx-firmware 1.0.90 --no-battery-temp-sensor <"$dir/in" >"$dir/old" 2>&1 &
old_pid=$!
trap 'kill $pid $old_pid 2>/dev/null; wait $pid $old_pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do grep -q '^ready' "$dir/old" && break; sleep 0.1; done
oport=$(sed -nE 's/^ready victron=127.0.0.1:([0-9]+).*/\1/p' "$dir/old")
answer=$(mbpoll -0 -1 -m tcp -p "$oport" -a 100 -r 840 -c 12 127.0.0.1 2>&1)
if grep -qi "Illegal data address" <<<"$answer"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "FAIL: firmware 1.0.90 served 840-851 across its hole: $answer"
fi
expect "firmware 1.0.90 serves 840 alone" 100 "$oport" 840 523
expect "a monitor without a temperature sensor reads 0 at 262" 225 "$oport" 262 0

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
