#!/usr/bin/env bash
# The Mosquitto ACL that the owner's guide ships (docs/guide.md, "Who may publish what (ACL)"),
# taken out of the guide as written and run in a real mosquitto on loopback: a relay's state and
# an override reach shackd from their own users, the same messages from anyone else (a stranger
# with a user, a relay outside its own name) are dropped by the broker, a stranger reads nothing
# of shackd's or the relays', and a client without a user is refused.
# What the broker promises (man mosquitto.conf, mosquitto 2.0.11 here): with acl_file set, "only
# the topics listed will have access"; "pattern" lines "apply to all users", %u being the user
# name; allow_anonymous false refuses a client without one. A refused publish is not refused to
# the sender: an MQTT 3.1.1 PUBACK has no reason code, so mosquitto acknowledges it and drops it
# (the spoofs' mosquitto_pub exits 0). A refused subscription is granted and simply gets nothing.
# So a refusal is only seen as an absence: every "nothing arrived" check is closed by a marker
# published after the spoofs to the same listener, which a dead listener would miss too.
# Usage: bash tests/e2e/broker_acl.sh (SRC defaults to this checkout; nothing is built or run
# from BUILD, which lib.sh asks for).
# The checks are strings that expect evaluates: their variables expand there, not here.
# shellcheck disable=SC2016,SC2034
set -euo pipefail
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$SRC/build}
# shellcheck source=tests/e2e/lib.sh
source "$SRC/tests/e2e/lib.sh"   # WORK, PIDS, cleanup, ok/bad/finish, free_port
# lib.sh's cleanup kills what may be gone already: under -e its first failing kill would cut it
# short and leave the broker and the work directory behind.
trap 'set +e; cleanup' EXIT

GUIDE=$SRC/docs/guide.md
ACL=$WORK/acl
USERS=(shackd homeassistant primary_s21 neighbour)   # primary_s21: a Tasmota relay's user
declare -A PASSWORD

# expect NAME CONDITION: one line per check, the run goes on either way.
expect() { if eval "$2"; then ok; echo "ok: $1"; else bad "$1"; fi; }
now_ms() { date +%s%3N; }
# has FILE LINE: FILE has exactly LINE ("topic payload", as mosquitto_sub -v writes it).
has() { grep -qxF -- "$2" "$1" 2>/dev/null; }
# arrives FILE LINE SECONDS [COMMAND...]: FILE gets LINE within SECONDS; COMMAND (a publish) is
# run again every 0.25 s meanwhile, for a subscription that may not be in place yet.
arrives() {
  local file=$1 line=$2 deadline=$(($(now_ms) + $3 * 1000)) i
  shift 3
  while (($(now_ms) < deadline)); do
    if (($#)); then "$@" || true; fi
    for i in 1 2 3 4 5; do has "$file" "$line" && return 0; sleep 0.05; done
  done
  return 1
}
# pub USER ARGS...: a publish at QoS 1 as USER. mosquitto_pub returns once the broker's PUBACK
# is in, so the broker has routed, or dropped, the message before the next one is sent. Its
# status: 0 when the broker took the message (a refused one included), not 0 when it refused the
# connection: a spoof's check needs the 0, or it would pass for a wrong password.
pub() {
  local user=$1
  shift
  mosquitto_pub -h 127.0.0.1 -p "$PORT" -u "$user" -P "${PASSWORD[$user]}" -q 1 "$@" 2>>"$WORK/clients.err"
}
# listen USER FILE ARGS...: mosquitto_sub -v as USER into FILE, in the background, bounded by
# -W 20 (the whole test takes about a second).
listen() {
  local user=$1 file=$2
  shift 2
  mosquitto_sub -h 127.0.0.1 -p "$PORT" -u "$user" -P "${PASSWORD[$user]}" -v -q 1 -W 20 "$@" \
    >"$file" 2>>"$WORK/clients.err" &
  PIDS+=($!)
}
# only FILE PREFIX: every line of FILE starts with PREFIX.
only() { ! grep -qv -- "^$2" "$1"; }

# ---- the ACL, as the guide shows it: the fenced block right after the "<!-- acl: ... -->" line
awk '/^<!-- acl:/ { state = 1; next }
     state == 1 { if (/^```/) { state = 2; next } exit }
     state == 2 { if (/^```/) exit; print }' "$GUIDE" >"$ACL"
markers=$(grep -c '^<!-- acl:' "$GUIDE" || true)
expect "the guide has one ACL block, marked <!-- acl: -->, $(wc -l <"$ACL") lines" \
  '[[ $markers -eq 1 ]] && grep -qx "user shackd" "$ACL" && grep -q "^pattern .*%u" "$ACL"'
expect "the guide enables it with 'acl_file /etc/mosquitto/acl'" 'grep -qx "acl_file /etc/mosquitto/acl" "$GUIDE"'
if [[ $failed -gt 0 ]]; then finish; exit 1; fi

# ---- a broker as the guide sets it up: no anonymous clients, a password per user, the ACL
: >"$WORK/passwd"
for u in "${USERS[@]}"; do
  PASSWORD[$u]=pw-$u-$RANDOM
  mosquitto_passwd -b "$WORK/passwd" "$u" "${PASSWORD[$u]}"
done
# A free port from the kernel may be taken again before mosquitto binds it: then mosquitto ends
# ("Address already in use") and the next try takes another; any other end (an ACL it refuses)
# is final. It counts as up when its own log says it listens on the port and the port accepts,
# so another program's listener is never taken for it.
start_acl_broker() {
  local i
  for _ in 1 2 3; do
    PORT=$(free_port)
    printf 'listener %s 127.0.0.1\nallow_anonymous false\npersistence false\npassword_file %s\nacl_file %s\n' \
      "$PORT" "$WORK/passwd" "$ACL" >"$WORK/mosquitto.conf"
    # As root, mosquitto drops to the mosquitto user, which cannot read the private work dir.
    if [[ $(id -u) -eq 0 ]]; then echo "user root" >>"$WORK/mosquitto.conf"; fi
    /usr/sbin/mosquitto -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.log" 2>&1 &
    BROKER_PID=$!
    PIDS+=("$BROKER_PID")
    for ((i = 0; i < 100; i++)); do
      kill -0 "$BROKER_PID" 2>/dev/null || break
      if grep -q "listen socket on port $PORT\." "$WORK/mosquitto.log" &&
        (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        return 0
      fi
      sleep 0.05
    done
    kill "$BROKER_PID" 2>/dev/null || true
    wait "$BROKER_PID" 2>/dev/null || true
    grep -q "Address already in use" "$WORK/mosquitto.log" || break
  done
  return 1
}
if ! start_acl_broker; then
  bad "mosquitto did not start with the guide's ACL; its log:"
  sed 's/^/    /' "$WORK/mosquitto.log"
  finish; exit 1
fi
expect "mosquitto $(/usr/sbin/mosquitto -h | sed -n 's/^mosquitto version //p') runs the guide's ACL on 127.0.0.1:$PORT" \
  'kill -0 $BROKER_PID'

# ---- no user, no connection (allow_anonymous false)
anon_rc=0
anon_out=$(mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -t shack/load/primary/mode/set -m off 2>&1) || anon_rc=$?
expect "a client without a user is refused (${anon_out%%$'\n'*})" '[[ $anon_rc -ne 0 && $anon_out == *"not authorised"* ]]'

# ---- shackd listens to a relay's state, its last will, another relay's state and the overrides
GOT=$WORK/shackd.got
listen shackd "$GOT" -i acl-shackd -t stat/primary_s21/POWER -t stat/other_relay/POWER \
  -t tele/primary_s21/LWT -t 'shack/load/+/mode/set'
# First, that it hears what it should: the relay's own state, from the relay's own user (sent
# again until the subscription is in place), and an override from Home Assistant.
expect "the relay's user publishes its state: shackd gets stat/primary_s21/POWER ON" \
  'arrives "$GOT" "stat/primary_s21/POWER ON" 5 pub primary_s21 -i acl-relay -t stat/primary_s21/POWER -m ON'
expect "Home Assistant's override reaches shackd: shack/load/primary/mode/set on" \
  'arrives "$GOT" "shack/load/primary/mode/set on" 5 pub homeassistant -i acl-ha -t shack/load/primary/mode/set -m on'

# A client that dies has its last will published by the broker, under the ACL like any publish
# (mosquitto 2.0.11 takes any will at CONNECT and checks it when it sends it): a stranger could
# leave a spoof as its will.
# will USER CLIENT_ID TOPIC PAYLOAD: USER connects with that will and is killed once the broker
# has it; returns when the broker has seen it go (so the will is routed or dropped).
will() {
  local user=$1 id=$2 pid
  mosquitto_sub -h 127.0.0.1 -p "$PORT" -u "$user" -P "${PASSWORD[$user]}" -i "$id" --will-topic "$3" \
    --will-payload "$4" --will-qos 1 -t "$user/none" -W 20 >/dev/null 2>>"$WORK/clients.err" &
  pid=$!
  PIDS+=("$pid")
  local deadline=$(($(now_ms) + 5000))
  until grep -q "New client connected .* as $id (.*u'$user')" "$WORK/mosquitto.log"; do
    (($(now_ms) < deadline)) || return 1
    sleep 0.05
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  deadline=$(($(now_ms) + 5000))
  until grep -q "Client $id closed its connection" "$WORK/mosquitto.log"; do
    (($(now_ms) < deadline)) || return 1
    sleep 0.05
  done
}
expect "the relay's own last will reaches shackd: tele/primary_s21/LWT Offline" \
  'will primary_s21 acl-relay-will tele/primary_s21/LWT Offline && arrives "$GOT" "tele/primary_s21/LWT Offline" 5'

# Then the spoofs, each taken by the broker (PUBACK) and, by the ACL, dropped.
spoof_rc=0
pub neighbour -i acl-neighbour-1 -t stat/primary_s21/POWER -m OFF || spoof_rc=1
pub neighbour -i acl-neighbour-2 -t shack/load/primary/mode/set -m off || spoof_rc=1
pub primary_s21 -i acl-relay-2 -t stat/other_relay/POWER -m ON || spoof_rc=1
pub primary_s21 -i acl-relay-3 -t shack/load/primary/mode/set -m 'off 2h' || spoof_rc=1
will_rc=0
will neighbour acl-neighbour-will stat/primary_s21/POWER "OFF (will)" || will_rc=1
# The marker, from an authorised user after every spoof: all that the broker passed on before
# it is in the file once it is.
expect "the spoofs were connected and taken by the broker (PUBACK), and a marker published after them reaches shackd" \
  '[[ $spoof_rc -eq 0 && $will_rc -eq 0 ]] && arrives "$GOT" "shack/load/acl_marker/mode/set auto" 5 pub homeassistant -i acl-ha-2 -t shack/load/acl_marker/mode/set -m auto'
expect "neighbour cannot fake the relay's state (stat/primary_s21/POWER OFF)" '! has "$GOT" "stat/primary_s21/POWER OFF"'
expect "neighbour cannot fake it with its last will either" '! has "$GOT" "stat/primary_s21/POWER OFF (will)"'
expect "neighbour cannot override a load (shack/load/primary/mode/set off)" '! has "$GOT" "shack/load/primary/mode/set off"'
expect "the relay's user cannot fake another relay's state (stat/other_relay/POWER ON)" '! grep -qF "stat/other_relay/" "$GOT"'
expect "the relay's user cannot override a load either (shack/load/primary/mode/set off 2h)" \
  '! has "$GOT" "shack/load/primary/mode/set off 2h"'

# ---- who reads what: shackd's retained state and a command to the relay, with three listeners
pub shackd -i acl-shackd-1 -r -t shack/load/primary/state -m ON || true
HA=$WORK/homeassistant.got RELAY=$WORK/relay.got STRANGER=$WORK/neighbour.got
listen homeassistant "$HA" -i acl-ha-sub -t 'shack/#'
listen primary_s21 "$RELAY" -i acl-relay-sub -t 'cmnd/primary_s21/#'
listen neighbour "$STRANGER" -i acl-neighbour-sub -t '#'
# neighbour's listener is proven up by what the ACL lets any user read: commands to its own
# name (shackd writes cmnd/#; the Tasmota pattern lets a user read cmnd/<its name>/#).
expect "neighbour, subscribed to #, gets its own commands (cmnd/neighbour/POWER1 ON from shackd)" \
  'arrives "$STRANGER" "cmnd/neighbour/POWER1 ON" 5 pub shackd -i acl-shackd-2 -t cmnd/neighbour/POWER1 -m ON'
expect "Home Assistant reads shackd's retained state (shack/load/primary/state ON)" \
  'arrives "$HA" "shack/load/primary/state ON" 5'
expect "the relay reads its command from shackd (cmnd/primary_s21/POWER1 ON)" \
  'arrives "$RELAY" "cmnd/primary_s21/POWER1 ON" 5 pub shackd -i acl-shackd-3 -t cmnd/primary_s21/POWER1 -m ON'
# A command to the relay from neighbour and from Home Assistant, then shackd's state, live.
cmd_rc=0
pub neighbour -i acl-neighbour-3 -t cmnd/primary_s21/POWER1 -m TOGGLE || cmd_rc=1
pub homeassistant -i acl-ha-3 -t cmnd/primary_s21/POWER1 -m TOGGLE || cmd_rc=1
pub shackd -i acl-shackd-4 -t shack/state -m '{"acl_probe":1}' || cmd_rc=1
# The markers that close the read checks: each reaches its listener after all of the above.
expect "shackd's live state reaches Home Assistant, and the markers after it reach the relay and neighbour" \
  '[[ $cmd_rc -eq 0 ]] && arrives "$HA" "shack/state {\"acl_probe\":1}" 5 &&
   arrives "$RELAY" "cmnd/primary_s21/POWER1 OFF" 5 pub shackd -i acl-shackd-5 -t cmnd/primary_s21/POWER1 -m OFF &&
   arrives "$STRANGER" "cmnd/neighbour/POWER1 OFF" 5 pub shackd -i acl-shackd-6 -t cmnd/neighbour/POWER1 -m OFF'
expect "only shackd switches the relay: neighbour's and Home Assistant's commands are dropped" \
  '! grep -qF TOGGLE "$RELAY" && only "$RELAY" "cmnd/primary_s21/POWER1 O"'
expect "neighbour reads nothing of shackd's (retained or live) nor the relay's commands: $(grep -vc '^cmnd/neighbour/' "$STRANGER") of its $(wc -l <"$STRANGER") messages are not its own" \
  'only "$STRANGER" "cmnd/neighbour/"'

if [[ $failed -gt 0 ]]; then
  echo "the broker's log:"; sed 's/^/    /' "$WORK/mosquitto.log" | tail -40
  echo "what each listener got:"; for f in "$GOT" "$HA" "$RELAY" "$STRANGER"; do sed "s|^|    $(basename "$f"): |" "$f"; done
fi
# The listeners and the broker, each by its pid, reaped here (quietly: lib.sh's cleanup would
# kill -9 them and the shell would report each one killed after the summary line).
for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
PIDS=()
finish
