#!/usr/bin/env bash
# Sets up, builds with warnings as errors, and runs every test; then builds them with clang under
# AddressSanitizer and UndefinedBehaviorSanitizer (with the libFuzzer targets) in a second tree and
# runs all but the accelerated whole-day scenarios; then the threaded suites under ThreadSanitizer, the arm64 packages for bookworm and trixie with their
# tests under qemu (trixie's also installed and upgraded in a trixie arm64 root), each fuzz target
# for 60 s, and a one-day accelerated soak.
#   scripts/test.sh         everything, as CI runs it (its stages' times are printed as it goes;
#                           docs/development.md has the last measured run)
#   scripts/test.sh quick   the inner loop: set up what is missing (silent when all is there),
#                           build build/ and run the `unit` label (about 13 s once built; the
#                           first build of a fresh clone about 5.5 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ${1:-} == quick ]]; then
  scripts/setup.sh
  scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo
  exec ctest --test-dir build --output-on-failure -j "$(nproc)" -L unit
fi
[[ $# -eq 0 ]] || { echo "usage: scripts/test.sh [quick]" >&2; exit 64; }
# Each stage's time, and the whole run's, so that CI's budget (35 minutes) is watched stage by stage.
ci_start=$SECONDS
stage_start=$SECONDS
stage_name=setup
stage() {
  echo "== ($stage_name: $((SECONDS - stage_start)) s; $(((SECONDS - ci_start) / 60)) min so far)"
  stage_name=$1
  stage_start=$SECONDS
  echo "== $1"
}
# Every stage's host packages at once, before anything runs beside them (two apt-gets at a time
# would fight over dpkg's lock): the sanitizer tree's clang, the cross compiler, qemu, debootstrap.
scripts/setup.sh clang libclang-rt-14-dev debootstrap qemu-user-static qemu-user g++-aarch64-linux-gnu
jobs=$(nproc)

# The trixie stages' two Debian roots (the trixie build root with its packages, the Pi's arm64
# root) are made while the native trees build: they wait on the archive and on one core, the
# builds on both. Their own dpkg databases, not the host's. Waited for before the trixie stages.
# The two arm64 sysroots (the target's .debs, with apt's own private state) come with them.
mkdir -p build
(scripts/build-root.sh trixie scripts/setup.sh g++-aarch64-linux-gnu qemu-user &&
  scripts/build-root.sh trixie scripts/cross-sysroot.sh arm64 trixie "$PWD/build-arm64-trixie/sysroot" &&
  scripts/cross-sysroot.sh arm64 bookworm "$PWD/build-arm64-bookworm/sysroot" &&
  tests/package/pi_root.sh --base trixie arm64) >build/roots.log 2>&1 &
roots_pid=$!
trap 'kill $roots_pid 2>/dev/null || true' EXIT

stage "build (RelWithDebInfo, -Werror)"
scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo
ctest --test-dir build --output-on-failure -j "$jobs"

# One sanitizer tree serves the tests and the fuzzers: clang, with the libFuzzer targets (a
# separate fuzz build was a whole build more).
stage "build (clang, ASan+UBSan, with the libFuzzer targets): every test but the accelerated whole-day scenarios"
scripts/setup.sh clang libclang-rt-14-dev
CC=clang CXX=clang++ scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DSHACKD_SANITIZE=ON -DSHACKD_FUZZ=ON
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs" -LE scenario   # whole-day scenarios: native only

stage "build (ThreadSanitizer): the threaded suites and the daemon end to end"
scripts/build.sh build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHACKD_TSAN=ON -DSHACKD_BENCH=OFF \
  -- driver_tests mqtt_tests device_kind_tests metrics_tests shackd shackd-sim   # what those suites run
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp \
  ctest --test-dir build-tsan --output-on-failure -j "$jobs" -R '^(drivers|mqtt|mqtt_broker_.*|device_kind|metrics|daemon_e2e)$'

stage "Raspberry Pi OS 12: the bookworm arm64 package, its tests under qemu-user"
wait $roots_pid || { tail -30 build/roots.log; echo "test: making the roots and sysroots failed (build/roots.log)" >&2; exit 1; }
scripts/cross.sh arm64 bookworm

stage "Raspberry Pi OS 13: the trixie arm64 package (GCC 14, in a trixie build root), its unit tests under qemu-user"
scripts/cross.sh arm64 trixie --unit   # the broker cases under qemu: in the bookworm tree
# The guide's password broker with Debian 13's own mosquitto (2.0.21 opens its files as its user;
# the native tree's CTest broker_steps runs it against Debian 12's).
scripts/build-root.sh trixie tests/docs/broker_steps.sh

stage "Debian 13's own way: the source package (debian/) with dpkg-buildpackage in the trixie root, lintian, install, run, purge; the doc-check there"
tests/package/source_package.sh trixie
# The doc-check on Debian 13 too: every sh block and transcript of the docs, with trixie's own
# mosquitto and tools, against that build's shackd and shackd-sim (trixie's GCC 14).
scripts/build-root.sh trixie env BUILD="$(echo build/srcpkg-trixie/shackd/obj-*)" SRC=. tests/docs/doc_check.sh
# The fuzzers run for a fixed time each, beside the Pi root's install under qemu (one core, and
# waits on the archive): what the overlap costs is fuzzing iterations, never a verdict.
stage "the trixie arm64 package installed, run and upgraded in a trixie arm64 root under qemu; beside it, each libFuzzer target for 60 s (scripts/fuzz.sh SECONDS runs them longer)"
scripts/fuzz.sh 60 build-asan >build/fuzz.log 2>&1 &
fuzz_pid=$!
trap 'kill $roots_pid $fuzz_pid 2>/dev/null || true' EXIT
tests/package/pi_root.sh build-arm64-trixie/shackd_*~deb13_arm64.deb trixie
fuzz_rc=0
wait $fuzz_pid || fuzz_rc=$?
cat build/fuzz.log
[[ $fuzz_rc -eq 0 ]] || { echo "test: the fuzzers failed (exit $fuzz_rc, above)" >&2; exit 1; }

stage "soak, short: one simulated day at 1440x with random faults (scripts/soak.sh 30 runs a month)"
scripts/soak.sh 1 1440
stage done
