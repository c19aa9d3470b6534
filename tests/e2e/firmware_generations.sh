#!/usr/bin/env bash
# shackd as a process against the simulator serving each supported GX firmware generation's map
# (dbus-modbustcp v1.0.101, v1.0.90 with reserved holes, v1.0.80 without 884-913, v1.0.70 without
# 792/793; docs/registers.md §1.9): `shackd once` must see the same decision inputs and make the same
# decisions as on the newest, with a BMS on the battery unit and PV on both chargers.
# Usage: BUILD=build SRC=. firmware_generations.sh
source "$(dirname "$0")/lib.sh"

start_broker
once_with() {  # once_with NAME SIM-ARGS...: shackd once's table against that simulator, in $WORK/once-NAME
  local name=$1; shift
  start_sim "$@"
  write_config "$WORK/shackd.yaml"
  "$BUILD/shackd" once --config "$WORK/shackd.yaml" >"$WORK/once-$name" 2>"$WORK/once-$name.log"
  echo "rc=$?" >>"$WORK/once-$name"
  kill -9 "$SIM_PID"; wait "$SIM_PID" 2>/dev/null
  exec {SITE_SIM_FD}>&-
}
once_on() { once_with "$1" --battery-v 52.0 --pv-w 6000 --house-w 1200 --bms-min-cell-c 6 --gx-firmware "$1"; }

once_on 1.0.101
newest="$WORK/once-1.0.101"
check "the newest map: once succeeds" 'grep -q "^rc=0$" "$newest"'
check "the newest map: the BMS's cell is the charge temperature" 'grep -q "^charging allowed: 6.0 °C .*(from the BMS.s coldest cell)" "$newest"'
check "the newest map: PV from the GX's system service and the Sol-Ark, whole" 'grep -q "^inputs: PV 6000 W, load 1200 W" "$newest"'
check "the newest map: voltage from the battery monitor" 'grep -q "^battery 52.00 V (source battery_monitor" "$newest"'
for gen in 1.0.90 1.0.80 1.0.70; do
  once_on "$gen"
  check "GX firmware $gen: the same decision inputs and decisions as the newest" \
    'diff "$newest" "$WORK/once-$gen" >"$WORK/diff-$gen"' || cat "$WORK/diff-$gen"
done
check "older maps are noticed: the refused registers are logged" 'grep -q "not served" "$WORK/once-1.0.70.log"'

# The Sol-Ark reports no charge stage (and this config reads no GX solar charger's): a full bank
# held at the float setpoint with only a taper while its PV produces is a charger holding back;
# the same sun on a bank in bulk is not.
once_with full --battery-v 56.0 --absorption-v 55.5 --pv-w 12000 --house-w 1500
check "a full bank: the Sol-Ark's battery at its setpoint says the chargers hold PV back" \
  'grep -qE "^inputs: .*, chargers holding PV back: yes: the Sol-Ark.s battery held at 5[5-6]\.[0-9]{2} V" "$WORK/once-full"' ||
  cat "$WORK/once-full"
once_with bulk --battery-v 53.0 --pv-w 12000 --house-w 1500
check "a bank in bulk: no" 'grep -q "^inputs: .*, chargers holding PV back: no$" "$WORK/once-bulk"' || cat "$WORK/once-bulk"
finish
