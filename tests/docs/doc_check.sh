#!/usr/bin/env bash
# The doc-check (issue 17): every command the docs show is run, so the docs cannot drift.
# - Each ```sh block of README.md and docs/*.md runs, in order, in a sandbox that stands in for a
#   Pi: /etc, /var/lib and /home/pi under $WORK/root, port 1883 a free loopback port, and shims
#   (tests/docs/shims) for what only a Pi has: sudo, apt, systemctl, journalctl, scp, ssh, chown, adduser.
#   shackd, sqlite3, mosquitto, tee, cp run for real, against shackd-sim. A block that cannot run
#   here is listed below with the reason, and a new block that is in neither fails.
# - Each transcript (an untagged block starting with "$ ") runs against the simulator and its
#   output must match the docs' line for line, numbers and addresses aside.
# - Each `shackd ...` in the prose names a real command with options it accepts, and every
#   command of `shackd --help` is in the guide and in shackd(8).
# Usage: BUILD=build SRC=. doc_check.sh
source "$(dirname "$0")/../e2e/lib.sh"
# `shackd check` asks a user 'shackd', where one exists, to be able to write the state directory
# (its --as default); the stand-in Pi root below is the runner's. Said once, plainly, rather than
# as every check in the guide failing.
if getent passwd shackd >/dev/null; then
  echo "FAIL: a user 'shackd' exists on this machine (a package installed here?): shackd check would ask it to write the docs' stand-in state directory; remove it (userdel shackd) or run the doc-check elsewhere"
  exit 1
fi
SRC=$(cd "$SRC" && pwd) BUILD=$(cd "$BUILD" && pwd)  # the blocks run in the sandbox's home
DOCS=("$SRC/README.md" "$SRC/docs/guide.md" "$SRC/docs/development.md" "$SRC/docs/registers.md" "$SRC/docs/protocols.md"
  "$SRC/docs/solar-shack.md")
python3 "$SRC/tests/docs/doc_blocks.py" "$WORK/docs" "${DOCS[@]}" || { echo "FAIL: doc_blocks.py"; exit 1; }

# Blocks that do not run here, by their first line, and why.
declare -A NOT_RUN=(
  # (README: scripts/demo.sh, then scripts/test.sh)
  ["scripts/demo.sh"]="the demo is 17 minutes of a simulated day, and the test command is what runs this test; both are proven on a fresh Debian machine at each release"
  ["sudo apt install dpkg-dev debhelper"]="a whole package build: tests/package/source_package.sh runs these lines in a clean trixie root (scripts/test.sh)"
  ["scripts/cross.sh arm64"]="the Pi packages: scripts/test.sh builds the four (arm64 and armhf, bookworm and trixie), tests each architecture under qemu, and installs the trixie arm64 one in a trixie arm64 root"
)
is_not_run() { local k; for k in "${!NOT_RUN[@]}"; do [[ $1 == "$k"* ]] && return 0; done; return 1; }

# ---- the prose: each `shackd ...` is a real command with options it takes
help=$("$BUILD/shackd" --help 2>&1)
commands=$(sed -nE 's/^  ([a-z][a-z-]*( (check|export|apply|power-on-off))?)  .*/\1/p' <<<"$help")
check "shackd --help lists its commands ($(wc -l <<<"$commands"))" '[[ $(wc -l <<<"$commands") -ge 10 ]]'
bad_spans=""
while IFS=$'\t' read -r where span; do
  words=${span#sudo }
  words=${words#shackd }
  sub=$(awk '{print $1}' <<<"$words")
  [[ $sub == "<command>" || $sub == --version || $sub == --help ]] && continue
  two=$(awk '{print $1, $2}' <<<"$words")
  if grep -qxF "$two" <<<"$commands"; then sub=$two
  elif ! grep -qxF "$sub" <<<"$commands"; then bad_spans+=" $where: '$span' (no command '$sub');"; continue; fi
  usage=$("$BUILD/shackd" $sub --help 2>&1)
  for opt in $(grep -oE -- '--[a-z][a-z-]*' <<<"$words"); do
    [[ $opt == --help ]] && continue
    grep -qE -- "$opt([^a-z-]|$)" <<<"$usage" || bad_spans+=" $where: '$span' ('shackd $sub' has no $opt);"
  done
done <"$WORK/docs/inline.txt"
check "every \`shackd ...\` in the docs ($(wc -l <"$WORK/docs/inline.txt")) names a command and options it takes${bad_spans:+:$bad_spans}" \
  '[[ -z $bad_spans && $(wc -l <"$WORK/docs/inline.txt") -ge 20 ]]'
# shackd(8) has each command as ".B name [options]" (roff: "\-" for "-"), with options it takes.
missing=""
while read -r c; do
  grep -qF "shackd $c" "$SRC/docs/guide.md" || missing+=" guide.md: $c;"
  line=$(sed 's/\\-/-/g' "$SRC/cmake/deb/shackd.8" | grep -E "^\.B $c( |\$)" | head -1)
  [[ -n $line ]] || { missing+=" shackd.8: $c;"; continue; }
  usage=$("$BUILD/shackd" $c --help 2>&1)
  for opt in $(grep -oE -- '--[a-z][a-z-]*' <<<"$line"); do
    grep -qE -- "$opt([^a-z-]|\$)" <<<"$usage" || missing+=" shackd.8: $c $opt (not an option of it);"
  done
done <<<"$commands"
check "every command is in the guide and the man page, with options it takes${missing:+ (missing:$missing)}" '[[ -z $missing ]]'

# ---- the sandbox: a Pi's paths, the simulator's devices, two brokers (anonymous, and the guide's)
ROOT=$WORK/root
mkdir -p "$ROOT/etc" "$ROOT/var/lib" "$ROOT/home/pi" "$ROOT/bin"
cp /etc/os-release "$ROOT/etc/os-release"   # the guide reads a Pi's release from it
ln -s "$BUILD/shackd" "$ROOT/bin/shackd"
ln -s "$BUILD/shackd-sim" "$ROOT/bin/shackd-sim"
start_broker
start_sim --pv-w 3000
export DOC_ROOT=$ROOT BUILD SRC MQTT_PORT SITE_VICTRON_PORT SITE_SOLARK_PORT
export PW_PORT=$(free_port)
export DOC_VERSION=$("$BUILD/shackd" --version | awk '{print $2}')
export DOC_MQTT_PASSWORD=$(sed -nE "s/^echo '([^']+)' \| sudo tee \/etc\/shackd\/mqtt.password.*/\1/p" "$SRC/docs/guide.md")
check "the guide writes shackd's MQTT password file" '[[ -n $DOC_MQTT_PASSWORD ]]'
sandbox_path="$SRC/tests/docs/shims:$ROOT/bin:$PATH"
today=$(date +%F)
# The docs' paths and ports, moved into the sandbox. The restore names the backup by its date:
# the example's date stands for the backup made above, today.
# The package's examples are the repository's files (cmake/package.cmake installs them as they are).
rewrite() {
  sed -e "s|/usr/share/doc/shackd/examples/shackd-uplink.conf|$SRC/contrib/mosquitto/shackd-uplink.conf|g" \
    -e "s|/etc/|$ROOT/etc/|g" -e "s|/var/lib/|$ROOT/var/lib/|g" -e "s|/home/pi|$ROOT/home/pi|g" \
    -e "s|listener 1883|listener $PW_PORT 127.0.0.1|g" -e "s|:1883|:$PW_PORT|g" \
    -e "s|shackd-20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]\.db|shackd-$today.db|g" "$1"
}

# What each block must have done, by its first line (beyond exiting 0).
after_block() {
  case $1 in
    "sudo cp /usr/share/doc/shackd/examples/shackd-uplink.conf"*)
      # The uplink's bridge, as the guide fills it in, in the sandbox's mosquitto (the guide's
      # password and ACL): it starts and tries the central broker (tests/fleet/uplink.sh runs the
      # same file against a central broker on loopback).
      local conf=$ROOT/etc/mosquitto/conf.d/shackd-uplink.conf
      check "the uplink's bridge file has no placeholder left" "[[ -s $conf ]] && ! grep -qE 'SITE_ID|CENTRAL_(HOST|PORT)' $conf"
      check_within "mosquitto runs the guide's bridge (shackd-north-ridge)" 10 \
        "grep -q 'bridge.*shackd-north-ridge' '$ROOT/journal/mosquitto.log'" || tail -5 "$ROOT/journal/mosquitto.log" ;;
    "scp build-"*)
      check "the quick start: the installed config checks and the service makes decisions" \
        'grep -q "first decision" "$ROOT/journal/shackd.log"'
      check "the example config, as the owner edited it, is accepted by shackd check" \
        '"$BUILD/shackd" check --config "$ROOT/etc/shackd/shackd.yaml" >/dev/null 2>&1' ;;
    "echo '"*)
      # The guide's own config line for the broker with a password, into the installed config,
      # and a restart: shackd connects with the password.
      local snippet
      snippet=$(grep -F 'docs/guide.md' "$WORK/docs/snippets.txt" | head -1 | cut -f2)
      check "the guide shows the mqtt: settings for a broker with a password" '[[ -n $snippet ]]'
      snippet=$(rewrite <(echo "$snippet"))
      # (Merged by hand, not with a YAML library the test machine may not have: the line is a flow
      # map of plain scalars, and the installed config's mqtt: section is block style.)
      python3 - "$ROOT/etc/shackd/shackd.yaml" "$snippet" <<'PY' || bad "the guide's mqtt: line is not a flow map"
import re, sys
path, snippet = sys.argv[1], sys.argv[2].strip()
m = re.fullmatch(r"mqtt: \{(.*)\}", snippet)
assert m, snippet
pairs = [p.split(": ", 1) for p in m.group(1).split(", ")]
lines = open(path).read().split("\n")
start = lines.index("mqtt:")
end = next(i for i in range(start + 1, len(lines)) if lines[i] and not lines[i].startswith((" ", "#")))
for key, value in pairs:
    at = [i for i in range(start + 1, end) if re.match(rf"  {key}:", lines[i])]
    if at:
        lines[at[0]] = f"  {key}: {value}"
    else:
        lines.insert(start + 1, f"  {key}: {value}")
        end += 1
open(path, "w").write("\n".join(lines))
PY
      check "the config with the guide's mqtt: line passes shackd check" \
        '"$BUILD/shackd" check --config "$ROOT/etc/shackd/shackd.yaml" >>"$WORK/blocks.log" 2>&1'
      PATH=$sandbox_path systemctl restart shackd >>"$WORK/blocks.log" 2>&1
      check_within "shackd connects to the broker with the password the guide set up" 15 \
        "grep -q 'mqtt: connected to tcp://127.0.0.1:$PW_PORT' '$ROOT/journal/shackd.log'"
      check "the broker refuses a wrong password (the password is really asked for)" \
        '! mosquitto_pub -h 127.0.0.1 -p "$PW_PORT" -u shackd -P wrong -t x -m y 2>/dev/null' ;;
    "sqlite3 /var/lib/shackd/shackd.db \".backup"*)
      check "the backup is a database with the profiles in it" \
        '[[ $(sqlite3 "$ROOT/home/pi/shackd-$today.db" "SELECT count(*) FROM miner_profiles" 2>/dev/null) -ge 1 ]]'
      check "the profiles' export is YAML with the profiles" 'grep -q "^profiles:" "$ROOT/home/pi/profiles-$today.yaml"' ;;
    "# terminal 1"*)
      check_within "Try your site first, terminal 1: the simulator serves the owner's site and writes the trial config" 20 \
        "grep -q '^mqtt connected' '$TERMINAL_LOG' && [[ -s '$ROOT/home/pi/try.yaml' ]]" ||
        sed 's/^/  | /' "$TERMINAL_LOG" ;;
    "# terminal 2"*)
      check_within "Try your site first, terminal 2: shackd runs the trial" 30 "grep -q 'first decision' '$TERMINAL_LOG'" ||
        sed 's/^/  | /' "$TERMINAL_LOG"
      # Every relay of the installed config answers the trial in its own protocol: what shackd
      # wants of each load, its relay reports.
      local ids id unconfirmed=""
      ids=$(sed -n '/^relays:/,/^[a-z]/p' "$ROOT/etc/shackd/shackd.yaml" | sed -nE 's/^  ([a-z0-9_]+):.*/\1/p')
      sleep_until_confirmed() {
        local i want got
        for ((i = 0; i < 100; i++)); do
          want=$(mosquitto_sub -h 127.0.0.1 -p "$PW_PORT" -u shackd -P "$DOC_MQTT_PASSWORD" -t "shack-try/load/$1/state" -C 1 -W 2 2>/dev/null)
          got=$(mosquitto_sub -h 127.0.0.1 -p "$PW_PORT" -u shackd -P "$DOC_MQTT_PASSWORD" -t "shack-try/load/$1/observed" -C 1 -W 2 2>/dev/null)
          [[ -n $want && $want == "$got" ]] && return 0
          sleep 0.1
        done
        return 1
      }
      for id in $ids; do sleep_until_confirmed "$id" || unconfirmed+=" $id"; done
      check "Try your site first: every relay ($(wc -w <<<"$ids")) reports what the trial's shackd wants${unconfirmed:+ (not:$unconfirmed)}" \
        '[[ -n $ids && -z $unconfirmed ]]'
      check "Try your site first: the owner's config is unchanged and the trial has its own database" \
        "'$BUILD/shackd' check --config '$ROOT/etc/shackd/shackd.yaml' >/dev/null 2>&1 && [[ -s '$ROOT/home/pi/try.db' ]]"
      kill "${TRY_PIDS[@]}" 2>/dev/null
      pkill -f "$ROOT/home/pi/try.yaml" 2>/dev/null ;;
    "sudo systemctl stop shackd"*)
      check "after the restore shackd runs on the restored database" \
        '[[ $(grep -c "first decision" "$ROOT/journal/shackd.log") -ge 3 ]]' ;;
  esac
}

ran=0
TRY_PIDS=()
while read -r name where first; do
  if is_not_run "$first"; then continue; fi
  rewrite "$WORK/docs/blocks/$name.sh" >"$WORK/docs/blocks/$name.run"
  # "# terminal N: ..." blocks run until Ctrl-C (Try your site first): in the background, each
  # with its own log, checked by after_block and stopped after the next one's check.
  if [[ $first == "# terminal"* ]]; then
    (cd "$ROOT/home/pi" && PATH=$sandbox_path exec bash -euo pipefail "$WORK/docs/blocks/$name.run") \
      >"$WORK/docs/blocks/$name.log" 2>&1 </dev/null &
    TRY_PIDS+=($!)
    PIDS+=($!)
    TERMINAL_LOG=$WORK/docs/blocks/$name.log
    ran=$((ran + 1))
    after_block "$first"
    continue
  fi
  (cd "$ROOT/home/pi" && PATH=$sandbox_path bash -euo pipefail "$WORK/docs/blocks/$name.run") >>"$WORK/blocks.log" 2>&1
  rc=$?
  check "$where runs as the docs show it (exit $rc): $first" '[[ $rc -eq 0 ]]' || {
    tail -15 "$WORK/blocks.log"; sed 's/^/  | /' "$WORK/docs/blocks/$name.run"; }
  ran=$((ran + 1))
  after_block "$first"
done <"$WORK/docs/blocks.txt"
check "the sh blocks ran ($ran), and only the listed ones were left out" \
  '[[ $ran -ge 5 && $((ran + ${#NOT_RUN[@]})) -le $(wc -l <"$WORK/docs/blocks.txt") ]]'
unmatched=""
for k in "${!NOT_RUN[@]}"; do grep -qF " $k" "$WORK/docs/blocks.txt" || unmatched+=" '$k';"; done
check "every block listed as not run is still in the docs${unmatched:+ (gone:$unmatched)}" '[[ -z $unmatched ]]'

# ---- the command lines in the prose that are whole (no placeholder such as F, N, ISO, […], <…>,
# "…"), run in the sandbox with the service running: each exits 0. Without --config the binary
# reads /etc/shackd/shackd.yaml, which in the sandbox is under $ROOT: it is given.
whole=0 failing=""
while IFS=$'\t' read -r where span; do
  cmd=${span#sudo }
  [[ $cmd == *--* && $cmd != "shackd run "* && ! $cmd =~ [][\<\>…\|\(] && ! $cmd =~ \ [A-Z]+(\ |$) ]] || continue
  cmd=$(rewrite <(echo "$cmd") | sed -E -e "s|--victron [0-9.]+(:[0-9]+)?|--victron 127.0.0.1:$SITE_VICTRON_PORT|" \
    -e "s|--solark [0-9.]+(:[0-9]+)?|--solark 127.0.0.1:$SITE_SOLARK_PORT|")
  sub=$(awk '{print $2}' <<<"$cmd")
  if [[ $cmd != *--config* ]] && "$BUILD/shackd" $sub --help 2>&1 | grep -q -- --config; then
    cmd+=" --config $ROOT/etc/shackd/shackd.yaml"
  fi
  out=$(cd "$ROOT/home/pi" && PATH=$sandbox_path timeout 60 bash -c "$cmd" 2>&1); rc=$?
  [[ $rc -eq 0 ]] || failing+=" $where: '$span' exit $rc: $(tail -1 <<<"$out");"
  whole=$((whole + 1))
done <"$WORK/docs/inline.txt"
check "the whole command lines in the prose ($whole) run${failing:+:$failing}" '[[ $whole -ge 5 && -z $failing ]]'

# ---- transcripts: the command against the simulator, the output as the docs show it
normalize() {
  sed -E -e 's/(127\.0\.0\.1|192\.168\.[0-9]+\.[0-9]+)(:[0-9]+)?/ADDR/g' -e 's/[0-9]+(\.[0-9]+)?/N/g' -e 's/ +/ /g'
}
shown=0
while read -r name where first; do
  cmd=$(sed -E -e "s|--victron [0-9.]+(:[0-9]+)?|--victron 127.0.0.1:$SITE_VICTRON_PORT|" \
    -e "s|--solark [0-9.]+(:[0-9]+)?|--solark 127.0.0.1:$SITE_SOLARK_PORT|" "$WORK/docs/transcripts/$name.cmd")
  out=$(cd "$ROOT/home/pi" && PATH=$sandbox_path bash -c "$cmd" 2>&1)
  diff=$(diff <(normalize <"$WORK/docs/transcripts/$name.out") <(normalize <<<"$out"))
  check "$where: the output of '$first' is what the docs show (numbers and addresses aside)" '[[ -z $diff ]]' ||
    echo "$diff"
  shown=$((shown + 1))
done <"$WORK/docs/transcripts.txt"
check "the transcripts ran ($shown)" '[[ $shown -ge 1 ]]'
finish
