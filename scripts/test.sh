#!/usr/bin/env bash
# Sets up, builds and runs every test, as CI does (.ci/run runs this and nothing else):
#   the native tree (GCC, -Werror) with every test; clang's ASan+UBSan+LSan tree (with the
#   libFuzzer targets) over every unit suite and the process tests that drive the daemon's memory;
#   the ThreadSanitizer tree over the threaded suites and the daemon end to end; the Pi packages
#   (arm64 and armhf, for Raspberry Pi OS 12 and 13), each built and lintian-checked, the unit
#   label under qemu-user once for each architecture; the Debian source package built, checked,
#   installed and purged in a trixie root, and the doc-check there; the trixie arm64 package
#   installed and upgraded in a Pi root under qemu; each fuzz target for 20 s; a one-day soak.
#   scripts/test.sh         everything, as CI runs it: build time and test time of every stage, then
#                           a table (docs/development.md "CI" keeps the last measured run)
#   scripts/test.sh quick   the inner loop: set up what is missing (silent when all is there),
#                           build build/ and run the `unit` label (docs/development.md has the figures)
#
# How it fits in 35 minutes on 2 cores (docs/development.md, "CI"): each tree is a unity build,
# compiled through ccache when it is there (kept in /var/tmp/shackd-ccache between runs); a
# tree's tests, which mostly wait on brokers, processes and clocks, start as soon as the tree is
# built and run while the next trees compile at a lower priority (nice 10), one test stage at a
# time, so they keep their timing; the Debian roots and the sysroots are made in the
# background from the start and kept under /var/tmp/shackd-roots.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ${1:-} == quick ]]; then
  scripts/setup.sh
  scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo
  # -j 8 on any machine: most unit tests wait (a loopback device, a real clock), so more of them
  # than cores at once cost no time; the slowest file is the label's time.
  exec ctest --test-dir build --output-on-failure -j 8 -L unit
fi
[[ $# -eq 0 ]] || { echo "usage: scripts/test.sh [quick]" >&2; exit 64; }

jobs=$(nproc)
ci_start=$SECONDS
mkdir -p build/ci
rm -f build/ci/*.log build/ci/times

# Every stage's host packages at once, before anything runs beside them (two apt-gets at a time
# would fight over dpkg's lock): the sanitizer tree's clang, the cross compilers, qemu,
# debootstrap, ccache.
scripts/setup.sh clang libclang-rt-14-dev debootstrap qemu-user-static qemu-user g++-aarch64-linux-gnu \
  g++-arm-linux-gnueabihf ccache
export SHACKD_CCACHE=${SHACKD_CCACHE:-/var/tmp/shackd-ccache}
export SHACKD_SYSROOTS=${SHACKD_SYSROOTS:-${SHACKD_ROOTS:-/var/tmp/shackd-roots}/sysroots}
# The machine's busy CPU time (user, nice, system: /proc/stat's jiffies at 100 a second), read at
# the start and the end: how much of the cores' time the run used (docs/development.md, "CI").
cpu_busy() { awk '/^cpu /{ print $2 + $3 + $4 }' /proc/stat; }
cpu_start=$(cpu_busy)

# record KIND NAME SECONDS: one line of the table at the end.
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>build/ci/times; }
# build NAME COMMAND...: a build in the foreground at nice 10 (the tests running beside it keep
# their cadence), timed. Before it, the background stages that have ended are reaped: a failed
# one stops the run there, not at the end.
build() {
  local name=$1 t0
  shift
  reap_ended
  echo "== build: $name ($(((SECONDS - ci_start) / 60)) min so far)"
  t0=$SECONDS
  nice -n 10 "$@"
  record build "$name" $((SECONDS - t0))
}
# spawn NAME COMMAND...: a stage in the background, its output in build/ci/NAME.log, its end time
# in build/ci/NAME.end (its row in the table is its own time, not when it was reaped).
# One test stage at a time (spawn waits for the one before to end; the roots and the Pi root's
# install, which run on one core under qemu, are not counted). Cold, the builds are longer than
# the stages, so none waits (2026-11-27: 31 min 7 s). Warm, three at once beside the builds took
# the ASan suites, CPU-bound at -O0, past their time-outs (scenarios 300 s, miner_safety 273 s,
# where they take 157 s and 122 s one stage at a time).
max_tests=1
declare -A pids starts counted
spawn() {
  local name=$1
  shift
  while (($(running_tests) >= max_tests)); do sleep 1; done
  echo "== tests: $name (in the background; build/ci/$name.log; $(((SECONDS - ci_start) / 60)) min so far)"
  starts[$name]=$SECONDS
  rm -f "build/ci/$name.end"
  ( rc=0; "$@" || rc=$?; echo "$SECONDS" >"build/ci/$name.end"; exit $rc ) >"build/ci/$name.log" 2>&1 &
  pids[$name]=$!
  counted[$name]=1
}
# spawn_roots NAME COMMAND...: the same, for the roots (not counted against $max_tests).
spawn_roots() {
  spawn "$@"
  unset "counted[$1]"
}
running_tests() {
  local n=0 name
  for name in "${!counted[@]}"; do [[ -e build/ci/$name.end ]] || n=$((n + 1)); done
  echo $n
}
# reap NAME: waits for it; prints its summary (all of its log when it failed) and fails the run.
reap() {
  local name=$1 rc=0
  [[ -n ${pids[$name]:-} ]] || return 0
  wait "${pids[$name]}" || rc=$?
  unset "pids[$name]" "counted[$name]"
  record tests "$name" $(($(cat "build/ci/$name.end" 2>/dev/null || echo $SECONDS) - starts[$name]))
  if [[ $rc -ne 0 ]]; then
    cat "build/ci/$name.log"
    echo "test: $name failed (exit $rc; build/ci/$name.log)" >&2
    exit 1
  fi
  grep -E '^(100% tests passed|[0-9]+% tests passed|Total Test time|ok:|PASS|cross:)' "build/ci/$name.log" | sed "s/^/   $name: /" || true
}
# reap_ended: reaps every background stage that has ended.
reap_ended() {
  local name
  for name in "${!pids[@]}"; do [[ ! -e build/ci/$name.end ]] || reap "$name"; done
}
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# The Debian roots and sysroots (the trixie build root with its packages, the four Pi sysroots)
# wait on the archive and on one core: made while the native trees build. Each root keeps its own
# dpkg database; a run whose roots exist under /var/tmp/shackd-roots skips them. Waited for before
# the first cross build. The Pi's arm64 root (debootstrap's second stage under qemu: about 10
# minutes of one core cold) is made beside them and waited for only by the Pi root's install.
spawn_roots roots nice -n 10 bash -c '
  set -e
  scripts/build-root.sh trixie scripts/setup.sh g++-aarch64-linux-gnu g++-arm-linux-gnueabihf qemu-user ccache
  scripts/build-root.sh trixie scripts/cross-sysroot.sh arm64 trixie "$PWD/build-arm64-trixie/sysroot"
  scripts/build-root.sh trixie scripts/cross-sysroot.sh armhf trixie "$PWD/build-armhf-trixie/sysroot"
  scripts/cross-sysroot.sh arm64 bookworm "$PWD/build-arm64-bookworm/sysroot"
  scripts/cross-sysroot.sh armhf bookworm "$PWD/build-armhf-bookworm/sysroot"'
spawn_roots pi-base nice -n 10 tests/package/pi_root.sh --base trixie arm64

ctest_env=(env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp)
# Tests mostly wait (on brokers, simulators, a daemon's cycles): more of them than cores at once.
ctest_run() { "${ctest_env[@]}" ctest --output-on-failure --timeout 900 "$@"; }

build "native (GCC $(g++ -dumpversion), RelWithDebInfo, -Werror)" \
  scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo
spawn native ctest_run --test-dir build -j 8

# One sanitizer tree serves the tests and the fuzzers: clang, with the libFuzzer targets. It builds
# what its tests run (`tree_tests`) and the fuzzers, not the programs of the native tree's own
# tests (the whole day, the miners' afternoons, the register tables).
build "ASan+UBSan+LSan (clang, Debug, with the libFuzzer targets)" \
  env CC=clang CXX=clang++ scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DSHACKD_SANITIZE=ON -DSHACKD_FUZZ=ON \
  -- tree_tests fuzzers
spawn asan ctest_run --test-dir build-asan -j 6

# The production files in unity batches, the threaded suites' test files one by one
# (tests/CMakeLists.txt: in a batch, one file's helpers and includes are seen by the files after
# it; seen once, a test's full_bank() bound to another test file's). Cold, on an idle machine:
# 244 s, against 353 s with every file alone (docs/development.md, "CI").
build "ThreadSanitizer (GCC, the threaded suites' targets; their test files one by one)" \
  scripts/build.sh build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHACKD_TSAN=ON -DSHACKD_BENCH=OFF -DCMAKE_UNITY_BUILD=ON -- tree_tests
spawn tsan ctest_run --test-dir build-tsan -j 4

reap roots
# The Pi packages: each built with its suite's compiler against its suite's libraries. The unit
# label runs under qemu-user once for each architecture (arm64 on bookworm, armhf on trixie: the
# target `unit_tests` built, then run); the other two are built and package-checked (contents,
# Depends, lintian).
build "Raspberry Pi OS 12, arm64 (GCC 12)" scripts/cross.sh arm64 bookworm --unit --build-only
spawn qemu-arm64 scripts/cross.sh arm64 bookworm --unit --test-only
build "Raspberry Pi OS 13, armhf (GCC 14, in the trixie root)" scripts/cross.sh armhf trixie --unit --build-only
spawn qemu-armhf scripts/cross.sh armhf trixie --unit --test-only
build "Raspberry Pi OS 13, arm64 (GCC 14, in the trixie root)" scripts/cross.sh arm64 trixie --package
reap pi-base
spawn_roots pi-root tests/package/pi_root.sh build-arm64-trixie/shackd_*~deb13_arm64.deb trixie
build "Raspberry Pi OS 12, armhf (GCC 12)" scripts/cross.sh armhf bookworm --package

# Debian 13's own way: the source package (debian/) with dpkg-buildpackage in the trixie root,
# lintian, install, run, purge; then, against that build (GCC 14) and with trixie's own mosquitto
# and tools, the guide's password broker and the doc-check.
build "Debian 13 source package (dpkg-buildpackage in the trixie root)" tests/package/source_package.sh trixie
reap_ended
t0=$SECONDS
scripts/build-root.sh trixie tests/docs/broker_steps.sh
scripts/build-root.sh trixie env BUILD="$(echo build/srcpkg-trixie/shackd/obj-*)" SRC=. tests/docs/doc_check.sh
record tests "Debian 13 broker steps and doc-check" $((SECONDS - t0))

# The fuzzers run for a fixed time each (20 s, two at a time: each target's corpus replayed, then
# new inputs): what running beside other stages costs is fuzzing iterations, never a verdict. The
# soak follows them (a tick late by half an interval counts as missed: it runs beside the end of
# the other stages, not beside the fuzzers' two cores).
spawn fuzz scripts/fuzz.sh 20 build-asan
reap fuzz
t0=$SECONDS
scripts/soak.sh 1 1440
record tests "soak: one simulated day at 1440x" $((SECONDS - t0))
for name in native asan tsan qemu-arm64 qemu-armhf pi-root; do reap "$name"; done

echo "== done in $(((SECONDS - ci_start) / 60)) min $(((SECONDS - ci_start) % 60)) s"
awk -F'\t' '{ printf "   %-6s %5d s  %s\n", $1, $3, $2 }' build/ci/times
printf '   %-6s %5d s\n' total $((SECONDS - ci_start))
busy_s=$((($(cpu_busy) - cpu_start) / $(getconf CLK_TCK)))
echo "   cpu    $busy_s s busy of $((jobs * (SECONDS - ci_start))) s ($jobs cores): $((100 * busy_s / (jobs * (SECONDS - ci_start) + 1)))%"
