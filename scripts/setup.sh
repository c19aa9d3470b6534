#!/usr/bin/env bash
# Installs what shackd needs to build, test and run its demo, from Debian 12's archive.
# Idempotent, and silent when everything is already there.
# Usage: scripts/setup.sh [--demo] [EXTRA_PACKAGE...]   (cross.sh and fuzz.sh add their compilers)
set -euo pipefail

# What building and running shackd and its demo needs. `setup.sh --demo` stops there; the test
# suite's tools (doctest, benchmark, mbpoll, lintian, valgrind, e2fsprogs) come with the rest.
runtime=(
  g++ cmake ninja-build pkg-config            # toolchain
  libmodbus-dev                               # Victron GX and Sol-Ark over Modbus
  libmosquitto-dev libssl-dev                 # MQTT: Eclipse Mosquitto's client library
  libsqlite3-dev sqlite3                      # the local store, and the shell to inspect it
  libyaml-cpp-dev libfmt-dev                  # config and text
  nlohmann-json3-dev                          # JSON: sensor payloads, Shelly RPC, HA discovery
  libmicrohttpd-dev                           # HTTP server: the metrics endpoint
  libcurl4-openssl-dev                        # HTTP(S) client: Braiins OS's REST API
  libcrypt-dev                                # md5-crypt (libxcrypt): Whatsminer API v2's token
  libsystemd-dev                              # sd_notify: READY, STATUS and the watchdog's pings
  libunistring-dev                            # UTF-8 checked and cleaned where text enters
  libcpp-httplib-dev                          # the simulator's Braiins OS API and the tests' HTTP clients
  mosquitto mosquitto-clients                 # a real broker for the demo and the tests
  faketime                                    # the demo and end-to-end tests run a day in minutes
  python3                                     # the demo picks free ports with it
  librsvg2-bin                                # rsvg-convert: `shackd report --out day.png`
)
tests=(
  doctest-dev libbenchmark-dev                # tests and bench/
  mbpoll                                      # an independent Modbus client for the simulator tests
  lintian                                     # the .deb is checked by lintian (tests/package)
  valgrind                                    # the daemon under memcheck (tests/e2e/valgrind.sh)
  openssl                                     # a test CA and certificates (the TLS host-name broker case)
  e2fsprogs                                   # an ext4 image that goes read-only under the database (fault matrix)
  prometheus python3-prometheus-client        # the fleet tests: promtool, a real Prometheus, a strict OpenMetrics parser
)
if [[ ${1:-} == --demo ]]; then
  shift
  packages=("${runtime[@]}" "$@")
else
  packages=("${runtime[@]}" "${tests[@]}" "$@")
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${#missing[@]} Debian package(s): ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
