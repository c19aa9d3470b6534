#!/usr/bin/env bash
# Installs what shackd needs to build, test and run its demo, from Debian 12's archive.
# Idempotent, and silent when everything is already there.
# Usage: scripts/setup.sh [EXTRA_PACKAGE...]   (cross.sh and fuzz.sh add their compilers)
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config            # toolchain
  libmodbus-dev                               # Victron GX and Sol-Ark over Modbus
  libpaho-mqttpp-dev libpaho-mqtt-dev libssl-dev  # MQTT (the C++ -dev does not pull these two)
  libsqlite3-dev sqlite3                      # the local store, and the shell to inspect it
  libyaml-cpp-dev libfmt-dev                  # config and text
  nlohmann-json3-dev                          # JSON: sensor payloads, Shelly RPC, HA discovery
  doctest-dev libbenchmark-dev                # tests and bench/
  mosquitto mosquitto-clients                 # a real broker for tests and the demo
  mbpoll                                      # an independent Modbus client for the simulator tests
  faketime                                    # the demo and end-to-end tests run a day in minutes
  python3                                     # the demo picks free ports with it
  lintian                                     # the .deb is checked by lintian (tests/package)
  valgrind                                    # the daemon under memcheck (tests/e2e/valgrind.sh)
  e2fsprogs                                   # an ext4 image that goes read-only under the database (fault matrix)
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
