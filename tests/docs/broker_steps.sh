#!/usr/bin/env bash
# The guide's "Mosquitto with a password" block against this suite's own mosquitto, as root, with
# the real chown and chmod and the broker dropping to its `mosquitto` user as Debian's does
# (Debian 13's 2.0.21 cannot open a password file its user cannot read, where 2.0.11 read it as
# root first: the guide's block once left a Pi on Debian 13 with no broker, issue 31). The
# block's /etc/mosquitto is a scratch directory and its port a free one; nothing of the machine's
# own broker is touched. scripts/test.sh runs it on the host (Debian 12) and in the trixie build
# root (Debian 13).
# Usage: tests/docs/broker_steps.sh   (as root, from the repository)
set -uo pipefail
cd "$(dirname "$0")/../.."
[[ $(id -u) -eq 0 ]] || { echo "FAIL: broker_steps: run as root (the block chowns to mosquitto)"; exit 1; }
for tool in /usr/sbin/mosquitto mosquitto_passwd mosquitto_pub; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/setup.sh installs it)"; exit 1; }
done
id mosquitto >/dev/null 2>&1 || { echo "FAIL: no mosquitto user (the mosquitto package makes it)"; exit 1; }
work=$(mktemp -d /tmp/shackd-broker-XXXXXX)
chmod 0755 "$work"  # the broker's user must reach the files, as it reaches /etc/mosquitto
pid=
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
etc="$work/etc/mosquitto"

# The block, as the guide has it: from the line after the marker's ```sh to its closing ```.
block=$(awk '/^\*\*Mosquitto with a password\*\*/ {found=1} found && /^```sh$/ {inside=1; next}
             inside && /^```$/ {exit} inside {print}' docs/guide.md)
[[ -n $block ]] || { echo "FAIL: no 'Mosquitto with a password' block in docs/guide.md"; exit 1; }
grep -q 'mosquitto_passwd -c /etc/mosquitto/passwd' <<<"$block" || { echo "FAIL: the block no longer makes /etc/mosquitto/passwd"; exit 1; }
# Runs the block for `port` and starts the broker on what it wrote; `up` set when it takes the
# password. What only a Pi has, or asks on a terminal: sudo (this is root), apt (installed
# already), systemctl (the broker is started here), the password prompt (given); the paths and the
# port are this run's.
try_port() {
  port=$1 up= pid=
  rm -rf "$etc" && mkdir -p "$etc/conf.d"
  {
    echo 'sudo() { "$@"; }; apt() { :; }; systemctl() { :; }'
    echo 'mosquitto_passwd() { [[ $1 == -c && $# -eq 3 ]] || return 1; command mosquitto_passwd -c -b "$2" "$3" the-password; }'
    sed -e "s|/etc/mosquitto|$etc|g" -e "s|listener 1883|listener $port 127.0.0.1|" <<<"$block"
  } >"$work/block.sh"
  if ! bash -e "$work/block.sh" >"$work/block.out" 2>&1; then
    echo "FAIL: the guide's broker block did not run:"; sed 's/^/    /' "$work/block.out"; exit 1
  fi
  # Debian's /etc/mosquitto/mosquitto.conf, as far as it matters here: the conf.d directory, and
  # the user the broker runs as (its default).
  printf 'user mosquitto\ninclude_dir %s/conf.d\n' "$etc" >"$work/mosquitto.conf"
  /usr/sbin/mosquitto -c "$work/mosquitto.conf" >"$work/broker.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    mosquitto_pub -h 127.0.0.1 -p "$port" -u shackd -P the-password -t shackd/check -m ok 2>/dev/null && { up=1; return; }
    kill -0 "$pid" 2>/dev/null || return
    sleep 0.05
  done
}
# A build root has no python3 to ask for a free port: a random one, another when it is taken (CI
# once drew one in use: "Address already in use", and the block was blamed for it).
for _ in 1 2 3 4 5; do
  try_port $((20000 + RANDOM % 40000))
  [[ -z $up ]] && grep -q 'Address already in use' "$work/broker.log" || break
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=
done
version=$(/usr/sbin/mosquitto -h 2>&1 | head -1)
failed=0
if [[ -n $up ]]; then echo "ok: $version took the guide's password file"; else
  echo "FAIL: $version refused the guide's broker block:"; sed 's/^/    /' "$work/broker.log"; failed=1
fi
# Only against a broker that is up: with none, every password is "refused".
if [[ -z $up ]]; then echo "FAIL: a wrong password not tried (no broker)"; failed=1
elif mosquitto_pub -h 127.0.0.1 -p "$port" -u shackd -P wrong -t shackd/check -m no 2>/dev/null; then
  echo "FAIL: the broker took a wrong password"; failed=1
else echo "ok: a wrong password is refused"; fi
# Debian 13's broker warns of a file it will refuse in a later version: none of the guide's.
if grep -qi 'warning' "$work/broker.log"; then
  echo "FAIL: the broker warns about the guide's files:"; grep -i warning "$work/broker.log" | sed 's/^/    /'; failed=1
else echo "ok: no warning about the files' owner or mode"; fi
exit $failed
