#!/usr/bin/env bash
# Miners through their own APIs with shackd as a real process: shackd-sim --miner serves the
# primary's firmware API on loopback (LuxOS and Whatsminer over TCP, Braiins OS over HTTP),
# powered by the primary's Tasmota relay, winding down over 3 s after a sleep; shackd reaches it
# through its MinerWorker thread. For each kind: a stop sends sleep and the relay is cut only
# once the miner draws below idle (the simulator prints what each cut broke); back on, it mines
# (LuxOS, powered back on still asleep, is woken). For LuxOS also: an API that stops answering
# leaves the stop to the relay, on the profile's timing and not the stop timeout's.
# Usage: BUILD=build SRC=. miner_api.sh
source "$(dirname "$0")/lib.sh"

start_broker

mining() {  # its full draw, awake
  local l; l=$(miner_line) || return 1
  [[ $(field asleep "$l") == false ]] && (( $(field draw_w "$l") > 3000 ))
}
cuts() { grep -ac '^miner.primary_s21 relay cut at' "$WORK/sim.out"; }
last_cut() { grep -a '^miner.primary_s21 relay cut at' "$WORK/sim.out" | tail -1; }

one_kind() {
  local kind=$1 auth=$2
  echo "--- $kind"
  start_sim --battery-v 52.0 --miner "primary_s21=$kind:0" --miner-boot-s 1 --miner-wind-down-s 3
  local port
  port=$(sed -nE 's/^ready .* miner.primary_s21=127.0.0.1:([0-9]+).*/\1/p' "$WORK/sim.out")
  check "$kind: the simulator serves the miner's API" '[[ -n $port ]]' || return
  DB_PATH=$WORK/$kind.db write_config "$WORK/$kind.yaml"
  # A stop timeout far beyond every wait below: a cut that waited for it would fail them.
  echo "miners:
  primary_s21: {kind: $kind, host: 127.0.0.1, port: $port$auth, poll_s: 2, timeout_ms: 500, stop_timeout_s: 120, boot_s: 10}" \
    >>"$WORK/$kind.yaml"
  start_daemon "$WORK/$kind.yaml" || { daemon_log | tail -20; return; }

  wait_for "$kind: the primary on and mining" 20 mining || return
  check_within "$kind: its API answers, in the log" 10 "daemon_log | grep -q 'miner primary_s21: its API answers'"
  [[ $kind == luxos ]] && threads_named "$kind" shackd-mqtt recorder publisher events-out "miner primary_s" "poll "
  local idle_w
  idle_w=$(daemon_log | sed -nE 's/.*miner primary_s21: .* \(idle below ([0-9]+) W, .*/\1/p' | head -1)
  check "$kind: its idle level in the log ($idle_w W)" '[[ -n $idle_w ]]' || return

  # A stop: sleep first, the relay only once the draw is below idle (the wind-down is 3 s).
  sim set battery_v 46.0
  wait_for "$kind: the relay cut after the stop" 20 '(( $(cuts) >= 1 ))' || return
  local cut; cut=$(last_cut)
  check "$kind: the relay broke less than idle, the miner asleep ($cut)" \
    '[[ $cut =~ at\ ([0-9]+)\ W\ asleep=true ]] && (( BASH_REMATCH[1] < idle_w ))'
  local l; l=$(miner_line)
  check "$kind: one sleep was sent ($l)" '[[ $(field sleeps "$l") == 1 ]]'
  check "$kind: the log tells the soft stop" \
    "daemon_log | grep -q 'miner primary_s21: asleep at [0-9]* W (idle below $idle_w W): relay cut'"

  # Back on: it mines. LuxOS kept its sleep across the power cut; shackd must wake it.
  sim set battery_v 52.0
  wait_for "$kind: mining again after the restart" 30 mining || return
  l=$(miner_line)
  if [[ $kind == luxos ]]; then
    check "luxos: powered back on asleep, woken once ($l)" '[[ $(field wakes "$l") == 1 ]]'
    check "luxos: the log tells the wake" "daemon_log | grep -q 'miner primary_s21: powered and asleep: woken'"
  else
    check "$kind: it came back mining without a wake ($l)" '[[ $(field wakes "$l") == 0 ]]'
  fi
  # Its boots (before the first answer, and after the restart) are not warnings.
  check "$kind: no 'does not answer' while it booted" "! daemon_log | grep -q 'does not answer\|no answer from its API'"

  if [[ $kind == luxos ]]; then
    # Its API stops answering while it hashes: the stop is the relay's, as without an API.
    sim miner primary_s21 api dead
    wait_for "luxos: shackd sees the API dead" 20 "daemon_log | grep -q 'miner primary_s21: its API does not answer'" || return
    sim set battery_v 46.0
    wait_for "luxos: the relay cut with the API dead" 20 '(( $(cuts) >= 2 ))' || return
    cut=$(last_cut)
    check "luxos: cut at its full draw, awake ($cut)" \
      '[[ $cut =~ at\ ([0-9]+)\ W\ asleep=false ]] && (( BASH_REMATCH[1] > 3000 ))'
    l=$(miner_line)
    check "luxos: no second sleep reached it ($l)" '[[ $(field sleeps "$l") == 1 ]]'
    # Powered again with its API still dead: told once its boot (boot_s 10) has passed.
    sim set battery_v 52.0
    wait_for "luxos: the boot without an answer told" 25 \
      "daemon_log | grep -q 'miner primary_s21: no answer from its API within 10 s of power on (miners.primary_s21.boot_s)'"
  fi
  daemon_alive "at the end of the $kind run"
  kill "$DAEMON_PID" "$SIM_PID" 2>/dev/null
  wait "$DAEMON_PID" "$SIM_PID" 2>/dev/null
}

one_kind luxos ""
one_kind whatsminer ", password: sim-secret"
one_kind braiins ", password: sim-secret"
finish
