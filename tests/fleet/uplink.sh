#!/usr/bin/env bash
# The uplink (docs/guide.md, Many sites) on loopback: a site's mosquitto bridged to a central
# mosquitto with the shipped stanza (contrib/mosquitto/shackd-uplink.conf, placeholders filled in),
# through a forwarder the test cuts (tests/fleet/tcp_cut.py), with shackd-sim and shackd on the
# site and a consumer at the centre that stays connected throughout. The link is cut for OUTAGE_S
# seconds (default 120: "for minutes") while overrides make dozens of events; then it comes back.
# Checks: the bridge connects and shackd's health says so; the cut shows in the site's $SYS and in
# shackd's health, and the central broker publishes the bridge's last will; after the link returns
# every event the site broker carried reaches the centre, none before the link returned, in the same
# order once repeated ids are dropped (the number of repeats is reported), and so do the states
# published during the outage (at least one per state_interval_s).
#
#   BUILD=build SRC=. tests/fleet/uplink.sh
#   OUTAGE_S=30            a shorter outage
#   UPLINK_CUT=stall       the link goes silent instead (no reset: only keepalives notice it;
#                          mosquitto before 2.0.15 then never says "0" at the site, see below)
#   UPLINK_RATE=5000       the link carries at most that many bytes a second each way (a slow
#                          uplink: the queue drains for seconds while shackd publishes on)
#   UPLINK_STANDIN=1       no shackd: mosquitto_pub stands in for it (numbered events, a state
#                          every 5 s), to check the brokers and the stanza alone (BUILD unused)
#   KEEP_WORK=1            keep the run's directory (logs, configs, what each side received)
source "$SRC/tests/e2e/lib.sh"
OUTAGE_S=${OUTAGE_S:-120}
CUT=${UPLINK_CUT:-kill}
RATE=${UPLINK_RATE:-}
STANDIN=${UPLINK_STANDIN:-}
SITE=north                   # the site's id: site.id in shackd's config, SITE_ID in the stanza
STATE_S=5                    # uplink.state_interval_s
PACE_S=3                     # an override (or a stand-in event) every PACE_S during the outage
BRIDGE=shackd-$SITE          # the stanza's remote_clientid
SYS_TOPIC="\$SYS/broker/connection/$BRIDGE/state"
[[ $CUT == kill || $CUT == stall ]] || { echo "FAIL: UPLINK_CUT is kill or stall, not '$CUT'"; exit 1; }
[[ $OUTAGE_S =~ ^[0-9]+$ && $OUTAGE_S -ge 15 ]] || { echo "FAIL: OUTAGE_S must be a number of seconds, at least 15"; exit 1; }
[[ -z $RATE || $RATE =~ ^[1-9][0-9]*$ ]] || { echo "FAIL: UPLINK_RATE is a number of bytes a second"; exit 1; }
if [[ -z $STANDIN ]]; then
  for f in shackd shackd-sim; do [[ -x $BUILD/$f ]] || { echo "FAIL: $BUILD/$f is not built"; exit 1; }; done
fi
now() { date +%s.%N; }
MOSQUITTO_VERSION=$(/usr/sbin/mosquitto -h 2>/dev/null | sed -n 's/^mosquitto version \([0-9.]*\).*/\1/p' | head -1)
# Whether the site broker says "0" when a bridge's keepalive goes unanswered (below).
SITE_TELLS_SILENCE=$([[ $(printf '%s\n' 2.0.15 "$MOSQUITTO_VERSION" | sort -V | head -1) == 2.0.15 ]] && echo yes || echo no)
T_START=$(date +%s)

# ---- the central broker, the link to it, the site broker ----------------------------------------
CENTRAL_PORT=$(free_port)
LINK_PORT=$(free_port)
SITE_PORT=$MQTT_PORT          # lib.sh's helpers (retained, the simulator, shackd's config) use it
mkdir -p "$WORK/central" "$WORK/site/conf.d"

# wait_port PORT: something accepts connections on 127.0.0.1:PORT within 5 s.
wait_port() { wait_for "a listener on port $1" 5 "(echo >/dev/tcp/127.0.0.1/$1) 2>/dev/null"; }

printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$CENTRAL_PORT" >"$WORK/central/mosquitto.conf"
/usr/sbin/mosquitto -c "$WORK/central/mosquitto.conf" >>"$WORK/central/mosquitto.log" 2>&1 &
PIDS+=($!)
wait_port "$CENTRAL_PORT" || { cat "$WORK/central/mosquitto.log"; exit 1; }

# The link: the forwarder from LINK_PORT to the central broker. `cut_link` kills it (both ends see
# their connection close) or stalls it (UPLINK_CUT=stall: silence); `restore_link` undoes that.
start_link() {
  python3 "$SRC/tests/fleet/tcp_cut.py" "$LINK_PORT" "$CENTRAL_PORT" $RATE >>"$WORK/link.log" 2>&1 &
  LINK_PID=$!
  PIDS+=("$LINK_PID")
  wait_port "$LINK_PORT"
}
cut_link() {
  if [[ $CUT == stall ]]; then
    kill -USR1 "$LINK_PID"
    wait_for "the link to stall" 5 "[[ \$(grep -c '^stalled' '$WORK/link.log') -gt ${STALLS:-0} ]]"
    STALLS=$((${STALLS:-0} + 1))
  else
    kill -TERM "$LINK_PID"
    wait "$LINK_PID" 2>/dev/null
  fi
}
restore_link() {
  if [[ $CUT == stall ]]; then
    kill -USR2 "$LINK_PID"
  else
    start_link
  fi
}
start_link || exit 1

# The site broker: a listener and persistence_location (the run's directory), as Debian's main
# file has them, and the stanza as shipped (it turns persistence on), placeholders filled in, in its
# conf.d. `user`: as root, mosquitto would become the mosquitto user, which may not write there.
sed -e "s/SITE_ID/$SITE/g" -e "s/CENTRAL_HOST/127.0.0.1/" -e "s/CENTRAL_PORT/$LINK_PORT/" \
  "$SRC/contrib/mosquitto/shackd-uplink.conf" >"$WORK/site/conf.d/shackd-uplink.conf"
check "the stanza's placeholders are all filled in" \
  '! grep -v "^#" "$WORK/site/conf.d/shackd-uplink.conf" | grep -qE "SITE_ID|CENTRAL_(HOST|PORT)"'
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence_location %s/\nuser %s\ninclude_dir %s\n' \
  "$SITE_PORT" "$WORK/site" "$(id -un)" "$WORK/site/conf.d" >"$WORK/site/mosquitto.conf"
/usr/sbin/mosquitto -c "$WORK/site/mosquitto.conf" >>"$WORK/site/mosquitto.log" 2>&1 &
SITE_BROKER_PID=$!
PIDS+=("$SITE_BROKER_PID")
wait_port "$SITE_PORT" || { cat "$WORK/site/mosquitto.log"; exit 1; }
# What it says while it reads its configuration, up to "running" (its only warning: running as
# root, when the test does).
check "mosquitto takes the stanza without an error or a warning" \
  '! sed -n "1,/ running\$/p" "$WORK/site/mosquitto.log" | grep -E ": (Error|Warning)" | grep -vq "should not be run as root"' ||
  sed 's/^/    /' "$WORK/site/mosquitto.log"

# ---- who listens -----------------------------------------------------------------------------------
# At the centre, for the whole run (only the site's link is cut): a persistent QoS 1 session, as a
# fleet's consumer would have, on the sites' events and states, and the bridges' state.
# One line per message: "<unix time> <retained> <topic> <payload>".
FMT='%U %r %t %p'
mosquitto_sub -h 127.0.0.1 -p "$CENTRAL_PORT" -i uplink-consumer -c -q 1 -F "$FMT" \
  -t 'shack/site/+/event' -t 'shack/site/+/state' -t '$SYS/broker/connection/+/state' >>"$WORK/central.rec" 2>&1 &
PIDS+=($!)
# At the site: what the bridge is given to carry, shackd's local events, the bridge's state.
mosquitto_sub -h 127.0.0.1 -p "$SITE_PORT" -q 1 -F "$FMT" \
  -t 'shack/site/+/event' -t 'shack/site/+/state' -t 'shack/event' -t '$SYS/broker/connection/+/state' \
  >>"$WORK/site.rec" 2>&1 &
PIDS+=($!)
central_retained() { mosquitto_sub -h 127.0.0.1 -p "$CENTRAL_PORT" -t "$1" -C 1 -W 2 2>/dev/null; }

# The bridge connects before anything is published (the centre then misses nothing).
check_within "the bridge connects: $SYS_TOPIC is 1 at the site" 90 '[[ $(retained "$SYS_TOPIC") == 1 ]]' ||
  { tail -20 "$WORK/site/mosquitto.log"; exit 1; }
check_within "... and at the central broker" 10 '[[ $(central_retained "$SYS_TOPIC") == 1 ]]'

# ---- the site: shackd and its simulator, or the stand-in -------------------------------------------
if [[ -z $STANDIN ]]; then
  start_sim
  # e2e.yaml with the site's id and the uplink on (a state every 5 s).
  site_config "$SRC/tests/e2e/e2e.yaml" "$WORK/shackd.db" "$MQTT_PORT" -e "s|^  name: e2e\$|  name: e2e\n  id: $SITE|" \
    >"$WORK/shackd.yaml"
  printf 'uplink:\n  state_interval_s: %s\n' "$STATE_S" >>"$WORK/shackd.yaml"
  check "shackd check takes the uplink config" '"$BUILD/shackd" check --config "$WORK/shackd.yaml" >"$WORK/check.out" 2>&1' ||
    { cat "$WORK/check.out"; exit 1; }
  start_daemon "$WORK/shackd.yaml" || exit 1
  MODES=(on off auto)
  # an event: an override of the primary miner, on, off and auto in turn.
  make_event() {
    mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t shack/load/primary_s21/mode/set -m "${MODES[$((N_MADE % 3))]}"
    N_MADE=$((N_MADE + 1))
  }
  # uplink_is true|false: shackd's retained health says the bridge is (not) connected.
  uplink_is() {
    retained shack/health | python3 -c '
import json, sys
b = json.load(sys.stdin).get("uplink", {}).get(sys.argv[1])
sys.exit(0 if b is not None and b.get("connected") is (sys.argv[2] == "true") else 1)' "$BRIDGE" "$1" 2>/dev/null
  }
else
  RUN_MS=$(date +%s%3N)
  echo 0 >"$WORK/seq"
  # an event as shackd would publish it, on its local topic and on the uplink's (numbered in a
  # file: the outage's events are made in a subshell).
  make_event() {
    local e SEQ
    SEQ=$(($(cat "$WORK/seq") + 1))
    echo "$SEQ" >"$WORK/seq"
    e=$(printf '{"kind":"override","id":"%s:%s:%s","site":"%s","run":%s,"seq":%s,"at":"%s","detail":"stand-in %s"}' \
      "$SITE" "$RUN_MS" "$SEQ" "$SITE" "$RUN_MS" "$SEQ" "$(date -Iseconds)" "$SEQ")
    mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t shack/event -m "$e"
    mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t "shack/site/$SITE/event" -m "$e"
  }
  # a state every STATE_S, retained, as shackd's uplink does.
  (
    n=0
    while :; do
      n=$((n + 1))
      mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -r -t "shack/site/$SITE/state" \
        -m "{\"site\":\"$SITE\",\"at\":\"$(date -Iseconds)\",\"n\":$n}"
      sleep "$STATE_S"
    done
  ) &
  PIDS+=($!)
  uplink_is() { true; }
fi
N_MADE=0   # overrides made (the override's mode cycles with it)
if [[ -z $STANDIN ]]; then
  check_within "shackd's health shows the uplink connected" 20 'uplink_is true' ||
    retained shack/health | sed 's/^/    /'
  check "shackd status says so" \
    '"$BUILD/shackd" status --config "$WORK/shackd.yaml" 2>&1 | grep -q "^uplink $BRIDGE: connected since "'
fi

# Both ways before the cut: an event and a state reach the centre.
make_event
check_within "an event reaches the central broker" 15 'grep " shack/site/$SITE/event " "$WORK/central.rec" | grep -q "\"kind\":\"override\""'
check_within "a state reaches the central broker" $((STATE_S + 10)) 'grep -q " shack/site/$SITE/state " "$WORK/central.rec"'

# ---- the outage ------------------------------------------------------------------------------------
# shellcheck disable=SC2034  # read by a check_within condition below
ATTEMPTS_AT_CUT=$(grep -c "Connecting bridge (step 1)" "$WORK/site/mosquitto.log")
T_CUT=$(now)
cut_link
# Events all through the outage, from the moment of the cut, while the checks below look on.
(
  while [[ ! -e $WORK/outage.over ]]; do
    make_event
    sleep "$PACE_S"
  done
) &
MAKER_PID=$!
PIDS+=("$MAKER_PID")
# Killed, both ends see the connection close at once; stalled, the bridge notices within two
# keepalives (30 s each in the stanza) and the central broker after one and a half.
DOWN_S=$([[ $CUT == kill ]] && echo 15 || echo 75)
if [[ $SITE_TELLS_SILENCE == yes || $CUT == kill ]]; then
  SITE_TOLD=1
  check_within "the site broker reports the bridge down ($CUT)" "$DOWN_S" '[[ $(retained "$SYS_TOPIC") == 0 ]]'
  if [[ -z $STANDIN ]]; then
    check_within "shackd's health shows the uplink down" 10 'uplink_is false' || retained shack/health | sed 's/^/    /'
    check "shackd status says so" \
      '"$BUILD/shackd" status --config "$WORK/shackd.yaml" 2>&1 | grep -q "^uplink $BRIDGE: NOT CONNECTED since .*(1 change(s)"'
  fi
else
  # mosquitto before 2.0.15 closes a bridge whose keepalive went unanswered without publishing
  # its "0" at the site (fixed in 2.0.15: eclipse/mosquitto#2467): the site's $SYS, and so
  # shackd's health, say "connected" through a silent outage. That the bridge noticed shows in
  # its attempts to connect again.
  SITE_TOLD=0
  echo "  mosquitto $MOSQUITTO_VERSION does not publish a bridge's 0 at the site after a keepalive time-out (fixed in 2.0.15): not checked"
  check_within "the site's bridge notices the silent link (it connects again)" "$DOWN_S" \
    '[[ $(grep -c "Connecting bridge (step 1)" "$WORK/site/mosquitto.log") -gt $ATTEMPTS_AT_CUT ]]'
fi
check_within "the central broker publishes the bridge's last will (0)" "$DOWN_S" '[[ $(central_retained "$SYS_TOPIC") == 0 ]]'
# The rest of the outage (a pace, not a check: what happened is read from the recordings).
rest=$(python3 -c "print(max(0.0, $T_CUT + $OUTAGE_S - $(now)))")
sleep "$rest"
touch "$WORK/outage.over"  # the maker ends after its current event (a kill could split one)
wait_for "the event maker to stop" 10 '! kill -0 "$MAKER_PID" 2>/dev/null'
echo "the link was down for $(python3 -c "print(round($(now) - $T_CUT))") s"
T_RESTORE=$(now)
restore_link
# The stanza's restart_timeout 5 60: an attempt at most a minute after the link is back.
check_within "the bridge connects again: 1 at the central broker" 90 '[[ $(central_retained "$SYS_TOPIC") == 1 ]]' ||
  tail -20 "$WORK/site/mosquitto.log"
check_within "... and at the site" 10 '[[ $(retained "$SYS_TOPIC") == 1 ]]'
if [[ -z $STANDIN ]]; then
  check_within "shackd's health shows the uplink connected again" 10 'uplink_is true' || retained shack/health | sed 's/^/    /'
fi

# ---- what reached the centre -------------------------------------------------------------------------
cat >"$WORK/uplink_check.py" <<'EOF'
import json, sys

def records(path):
    """(time, topic, payload) per line "<unix time> <retained> <topic> <payload>" of a recorder."""
    out = []
    for line in open(path, errors="replace"):
        parts = line.rstrip("\n").split(" ", 3)
        if len(parts) == 4:
            try:
                out.append((float(parts[0]), parts[2], parts[3]))
            except ValueError:
                pass
    return out

def events(recs, topic):
    out = []
    for t, tp, p in recs:
        if tp == topic:
            try:
                out.append((t, json.loads(p)))
            except ValueError:
                out.append((t, {"unparsed": p}))
    return out

def states(recs, topic):
    return [(t, p) for t, tp, p in recs if tp == topic]

def dedup(seq):
    seen, out = set(), []
    for k in seq:
        if k not in seen:
            seen.add(k)
            out.append(k)
    return out

mode, site = sys.argv[1], sys.argv[2]
ev_topic, st_topic = f"shack/site/{site}/event", f"shack/site/{site}/state"
site_recs, central_recs = records(sys.argv[3]), records(sys.argv[4])
site_ev, central_ev = events(site_recs, ev_topic), events(central_recs, ev_topic)
site_ids = [e.get("id") for _, e in site_ev]
central_ids = [e.get("id") for _, e in central_ev]
site_st = dedup(p for _, p in states(site_recs, st_topic))
central_st = states(central_recs, st_topic)

if mode == "drained":  # every event and every state the site carried is at the centre
    sys.exit(0 if site_ids and set(site_ids) <= set(central_ids) and set(site_st) <= {p for _, p in central_st} else 1)

t_cut, t_restore, outage_s, state_s, t_drained, site_told = (float(a) for a in sys.argv[5:11])
# What the site carried after the centre was found drained may still be on its way: the checks
# of completeness and order are on what came before.
all_site_ids = set(site_ids)
site_ev = [(t, e) for t, e in site_ev if t <= t_drained]
site_ids = [e.get("id") for _, e in site_ev]
site_st = dedup(p for t, p in states(site_recs, st_topic) if t <= t_drained)
def say(ok, what):
    print(("PASS " if ok else "FAIL ") + what)
def info(what):
    print("INFO " + what)

# The events as the site broker carried them: shackd's id fields, one run, numbered without a gap.
fields = ("id", "site", "run", "seq", "kind", "at")
bad = [e for _, e in site_ev if any(f not in e for f in fields)
       or e.get("id") != f"{e.get('site')}:{e.get('run')}:{e.get('seq')}" or e.get("site") != site]
say(not bad, f"every uplink event has {', '.join(fields)} and id = site:run:seq with site {site}"
    + (f" (not: {json.dumps(bad[0])[:300]})" if bad else ""))
runs = {e.get("run") for _, e in site_ev}
seqs = [e.get("seq") for _, e in site_ev]
gaps = [(a, b) for a, b in zip(seqs, seqs[1:]) if not (isinstance(a, int) and b == a + 1)]
say(len(runs) == 1 and not gaps, f"one run, seq +1 per event ({len(seqs)} events, seq {seqs[0] if seqs else '-'}.."
    f"{seqs[-1] if seqs else '-'}{', gaps ' + str(gaps[:5]) if gaps else ''})")
if seqs and seqs[0] != 1:
    info(f"the first event the site broker saw is seq {seqs[0]} (earlier ones went out before the recorder listened or before shackd's broker connection)")
local_ids = [e.get("id") for t, e in events(site_recs, "shack/event") if t <= t_drained]
say(local_ids == site_ids, f"shack/event carries the same ids in the same order ({len(local_ids)} local, {len(site_ids)} uplink)")

# The outage.
during = [e.get("id") for t, e in site_ev if t_cut <= t < t_restore]
say(len(during) >= outage_s / 6, f"dozens of events during the outage: {len(during)} (at least {outage_s / 6:.0f})")
kinds = {}
for t, e in site_ev:
    if t_cut <= t < t_restore:
        kinds[e.get("kind")] = kinds.get(e.get("kind"), 0) + 1
info(f"events during the outage: {len(during)} ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}); "
     f"{len(site_ids)} in all, seq {seqs[0] if seqs else '-'} to {seqs[-1] if seqs else '-'}")
first_at = {}
for t, e in central_ev:
    first_at.setdefault(e.get("id"), t)
early = [i for i in during if first_at.get(i, t_restore) < t_restore]
say(not early, f"none of them reached the centre while the link was down{' (' + ', '.join(early[:5]) + ')' if early else ''}")

# Complete, in order, repeats aside.
missing = [i for i in site_ids if i not in first_at]
say(not missing, f"every event reaches the centre ({len(site_ids)} at the site, {len(set(central_ids))} at the centre)"
    + (f"; missing {missing[:10]}" if missing else ""))
order = [i for i in dedup(central_ids) if i in set(site_ids)]
late = ""
if order != site_ids:
    # The first event that came later than one the site carried after it: with mosquitto 2.0.11,
    # a message published while the bridge drains its queue can take an in-flight slot ahead of
    # the queued ones (db__message_insert does not look at the queue).
    k = next((k for k, (a, b) in enumerate(zip(order, site_ids)) if a != b), min(len(order), len(site_ids)))
    if k < len(site_ids):
        want = site_ids[k]
        got = order[k] if k < len(order) else None
        site_at = {e.get("id"): t for t, e in site_ev}
        late = (f" ({want}, event {k + 1} of the recording, came after {got}, which the site carried"
                f" {site_at.get(got, 0) - site_at.get(want, 0):+.1f} s after it, at {first_at.get(got, 0) - t_restore:.1f} s"
                " after the link returned)")
say(order == site_ids, "in the site's order once repeated ids are dropped" + late)
extra = set(central_ids) - all_site_ids
say(not extra, f"nothing at the centre the site did not carry{' (' + str(sorted(extra)[:5]) + ')' if extra else ''}")
dups = len(central_ids) - len(set(central_ids))
info(f"duplicates at the centre: {dups} ({', '.join(sorted({i for i in central_ids if central_ids.count(i) > 1})[:10])})" if dups
     else "duplicates at the centre: 0")
if during:
    last = max(first_at[i] for i in during if i in first_at) if all(i in first_at for i in during) else None
    if last is not None:
        info(f"the outage's events were all at the centre {last - t_restore:.1f} s after the link returned")

# States: each published during the outage at the centre, in order; copies counted.
st_during = dedup(p for t, p in states(site_recs, st_topic) if t_cut <= t < t_restore)
want = outage_s / state_s - 2
say(len(st_during) >= want, f"states published during the outage: {len(st_during)} (at least {want:.0f})")
central_st_set = {p for _, p in central_st}
st_missing = [p for p in site_st if p not in central_st_set]
say(not st_missing, f"every state reaches the centre ({len(site_st)} at the site)" + (f"; missing {len(st_missing)}" if st_missing else ""))
st_order = [p for p in dedup(p for _, p in central_st) if p in set(site_st)]
say(st_order == site_st, "states in the site's order once repeats are dropped")
info(f"state copies at the centre: {len(central_st) - len(set(p for _, p in central_st))} repeats of {len(central_st_set)} states "
     "(mosquitto queues the retained state again at each reconnection attempt)")

# The bridge's state, as both brokers told it.
def sys_changes(recs):
    return [(t, p) for t, tp, p in recs if tp == f"$SYS/broker/connection/shackd-{site}/state"]
up_again = [t for t, p in sys_changes(site_recs) if p == "1" and t >= t_restore]
if up_again:
    info(f"the bridge was connected again {up_again[0] - t_restore:.1f} s after the link returned")
down = [t for t, p in sys_changes(site_recs) if p == "0" and t >= t_cut]
if down:
    info(f"the site broker said the bridge was down {down[0] - t_cut:.1f} s after the cut")
will = [t for t, p in sys_changes(central_recs) if p == "0" and t_cut <= t]
if will:
    info(f"the central broker published the bridge's will {will[0] - t_cut:.1f} s after the cut")
if mode == "daemon" and site_told:
    # shackd tells the link's drop and return as events, which travel like the others.
    det = [(t, e.get("detail", "")) for t, e in site_ev]
    say(any("uplink_down" in d for t, d in det if t >= t_cut), "shackd made an uplink_down event")
    say(any("uplink_up" in d for t, d in det if t >= t_restore), "shackd made an uplink_up event when the bridge was back")
EOF
drain_from=$(date +%s%3N)
check_within "every event and state the site carried reaches the central broker" 60 \
  'python3 "$WORK/uplink_check.py" drained "$SITE" "$WORK/site.rec" "$WORK/central.rec"'
T_DRAINED=$(now)
echo "drained $(( $(date +%s%3N) - drain_from )) ms after the bridge was back"
check_within "the central broker keeps the site's last state, retained" 15 \
  '[[ -n $(retained "shack/site/$SITE/state") && $(central_retained "shack/site/$SITE/state") == "$(retained "shack/site/$SITE/state")" ]]'
while read -r verdict what; do
  case $verdict in
    PASS) ok ;;
    FAIL) bad "$what" ;;
    *) echo "  $what" ;;
  esac
done < <(python3 "$WORK/uplink_check.py" "$([[ -n $STANDIN ]] && echo standin || echo daemon)" "$SITE" \
  "$WORK/site.rec" "$WORK/central.rec" "$T_CUT" "$T_RESTORE" "$OUTAGE_S" "$STATE_S" "$T_DRAINED" "$SITE_TOLD" 2>&1)
check "the site broker dropped nothing from the bridge's queue" \
  '! grep -q "Outgoing messages are being dropped" "$WORK/site/mosquitto.log"'
if [[ -z $STANDIN ]]; then
  daemon_alive "at the end" && ok
  retained shack/health | python3 -c '
import json, sys
print("  shackd health uplink:", json.dumps(json.load(sys.stdin).get("uplink")))' 2>/dev/null
fi
# `shackd status` reads whatever a client left retained: shackd stopped, a neighbour's health
# without an uplink, with one of the wrong shape, and device alarms and a state of the wrong shape.
if [[ -z $STANDIN ]]; then
  kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
  for hostile in '{}' '{"uplink":[1]}' '{"uplink":{"b":{"connected":"yes","since":7,"changes":-1}}}' '[]' 'not json'; do
    for t in health device_alarms state; do mosquitto_pub -h 127.0.0.1 -p "$SITE_PORT" -r -t "shack/$t" -m "$hostile"; done
    "$BUILD/shackd" status --config "$WORK/shackd.yaml" >"$WORK/status.out" 2>&1
    rc=$?
    check "shackd status reads a hostile retained '$hostile' (exit $rc)" '[[ $rc -eq 0 ]]' || tail -3 "$WORK/status.out"
  done
fi
echo "uplink test ($CUT, outage ${OUTAGE_S} s$([[ -n $STANDIN ]] && echo ', stand-in')): $(( $(date +%s) - T_START )) s"
finish
