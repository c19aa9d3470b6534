#!/usr/bin/env bash
# Cross-builds shackd for a Raspberry Pi, runs the tests under qemu-user, and makes the .deb.
# Usage: scripts/cross.sh [arm64|armhf|amd64] [bookworm|trixie] [--no-test|--unit|--package] [--test-only]
#   [--build-only] [--file-by-file]
#   (default) every test the cross trees run, under qemu, and the package test
#   --unit: only the `unit` label and the package test under qemu
#   --package: build only shackd and shackd-sim, and run the package test (contents, Depends,
#     lintian): a package proven built and checked, its tests run in another tree of its architecture
#   --no-test: build everything, tests included, and run nothing (CI runs them with --test-only
#     while it compiles the next tree)
#   --test-only: run the tests of a tree built before, build nothing
#   --build-only: build what the chosen tests need (with --unit: the unit label's programs; with no
#     choice: every test) and the package, run nothing (CI runs them later with --test-only)
#   --file-by-file: compile each source file alone, not in unity batches: proves that every file
#     builds by itself, with its own includes (not in CI: it costs more than twice the build)
#   arm64: Pi 3/4/5 on 64-bit Raspberry Pi OS (Debian arm64)
#   armhf: Pi 2/3/4/5, Zero 2 W on 32-bit Raspberry Pi OS; NOT the ARMv6 Pi 1 / Zero / Zero W
#   amd64: a PC or a VM on Debian (a native build in that suite, no qemu)
#   bookworm: Raspberry Pi OS 12 (images before October 2025); trixie: Raspberry Pi OS 13 (since)
#   The suite defaults to the host's own.
# Each package is built with its suite's own compiler and libraries: for the host's suite here;
# for another suite inside a build root of that suite (scripts/build-root.sh: debootstrap, once,
# under /var/tmp/shackd-roots), so a trixie package is built by trixie's GCC 14 against trixie's
# libraries. Installs what is missing (the cross compiler, qemu-user) with apt-get, makes a
# sysroot from the target's .debs (scripts/cross-sysroot.sh; the host's packages stay as they
# are), builds in build-<arch>-<suite>/ and leaves the .deb there:
#   build-arm64-trixie/shackd_<version>-1~deb13_arm64.deb
set -euo pipefail
cd "$(dirname "$0")/.."
arch=arm64
suite=""
run_tests=1   # 0 none, 1 all, 2 the unit label, 3 the package test alone
test_only=0
build_only=0
unity=ON
for a in "$@"; do
  case $a in
    arm64 | armhf | amd64) arch=$a ;;
    bookworm | trixie) suite=$a ;;
    --no-test) run_tests=0 ;;
    --unit) run_tests=2 ;;
    --package) run_tests=3 ;;
    --test-only) test_only=1 ;;
    --build-only) build_only=1 ;;
    --file-by-file) unity=OFF ;;
    *) echo "cross: unknown argument '$a' (usage: scripts/cross.sh [arm64|armhf|amd64] [bookworm|trixie] [--no-test|--unit|--package] [--test-only|--build-only] [--file-by-file])" >&2; exit 64 ;;
  esac
done
case $arch in
  arm64) triplet=aarch64-linux-gnu ;;
  armhf) triplet=arm-linux-gnueabihf ;;
  amd64) triplet="" ;;
esac
host_suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
suite=${suite:-$host_suite}
case $suite in
  bookworm | trixie) ;;
  *) echo "cross: the host is '$host_suite'; name the suite to build for (bookworm or trixie)" >&2; exit 64 ;;
esac

if [ "$suite" != "$host_suite" ]; then
  echo "== cross build for $suite $arch: in a $suite build root"
  args=("$arch" "$suite")
  [ $run_tests -ne 0 ] || args+=(--no-test)
  [ $run_tests -ne 2 ] || args+=(--unit)
  [ $run_tests -ne 3 ] || args+=(--package)
  [ $test_only -eq 0 ] || args+=(--test-only)
  [ $build_only -eq 0 ] || args+=(--build-only)
  [ $unity = ON ] || args+=(--file-by-file)
  exec scripts/build-root.sh "$suite" scripts/cross.sh "${args[@]}"
fi

build="build-$arch-$suite"
if [ "$arch" = amd64 ]; then
  # amd64 is native: this suite's own compiler and -dev packages (setup.sh installs them here, in
  # the build root for a suite other than the host's); the unit tests and the package test.
  [ "$(dpkg --print-architecture)" = amd64 ] || { echo "cross: amd64 is built on an amd64 machine" >&2; exit 64; }
  scripts/setup.sh
  echo "== native build ($suite amd64, $(g++ -dumpfullversion), RelWithDebInfo, -Werror)"
  scripts/build.sh "$build" -DSHACKD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
  rm -f "$build"/shackd_*.deb
  if [ $run_tests -ne 0 ]; then   # amd64 runs the unit label either way
    echo "== unit tests and the package test ($suite amd64)"
    ctest --test-dir "$build" --output-on-failure -j 8 -L unit
    ctest --test-dir "$build" --output-on-failure -R '^package$'
  fi
  [ -n "$(ls "$build"/shackd_*_amd64.deb 2>/dev/null)" ] || (cd "$build" && cpack >/dev/null)
  deb=$(ls "$build"/shackd_*_amd64.deb)
  echo "cross: $deb ($(stat -c %s "$deb") bytes)"
  echo "cross: Depends: $(dpkg-deb -f "$deb" Depends)"
  exit 0
fi

scripts/setup.sh "g++-$triplet" qemu-user

mkdir -p "$build"
sysroot="$(pwd)/$build/sysroot"
if [ $test_only -eq 0 ]; then
  scripts/cross-sysroot.sh "$arch" "$suite" "$sysroot"

  echo "== cross build ($suite $arch, $("$triplet-g++" -dumpfullversion), -O2 without debug info, -Werror)"
  # -O2, as Debian builds (GCC 12 at -O3 reports a false -Wrestrict in libstdc++'s string
  # concatenation, GCC bug 105329), and no -g: the package strips the debug info anyway, and
  # making it cost a cross build a third of its compile time (28 against 20 CPU-seconds for one of
  # the daemon's unity batches, 2026-11-26) and most of its link.
  # A toolchain file is read at a tree's first configure only (its *_INIT flags stay in the cache):
  # a tree configured with other toolchain files is configured anew (its objects stay; what changed
  # relinks). By content: every configure rewrites the cache, so its time says nothing.
  toolchain_sum=$(cat cross/*.cmake | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$build/.shackd-toolchain" 2>/dev/null)" != "$toolchain_sum" ]; then
    rm -f "$build/CMakeCache.txt"
    echo "$toolchain_sum" >"$build/.shackd-toolchain"
  fi
  targets=()
  # deb_docs: the gzip'ed changelog and man pages the package installs (an ALL target, not a
  # dependency of the two programs).
  [ $run_tests -ne 3 ] || targets=(-- shackd shackd-sim deb_docs)
  # The unit label's programs only (cmake/shackd_test.cmake's unit_tests): the e2e suites' programs
  # are a third of a tree that runs none of them.
  [ $run_tests -ne 2 ] || targets=(-- shackd shackd-sim deb_docs unit_tests)
  scripts/build.sh "$build" -DCMAKE_TOOLCHAIN_FILE="cross/$triplet.cmake" -DSHACKD_SYSROOT="$sysroot" \
    -DSHACKD_BENCH=OFF -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" -DCMAKE_UNITY_BUILD=$unity \
    "${targets[@]}"
  rm -f "$build"/shackd_*.deb
  (cd "$build" && cpack >/dev/null)
  deb=$(ls "$build"/shackd_*_"$arch".deb)
  "$triplet-strip" -o "$build/shackd.stripped" "$build/shackd"
  echo "cross: $deb ($(stat -c %s "$deb") bytes; stripped binary $(stat -c %s "$build/shackd.stripped") bytes)"
  echo "cross: Depends: $(dpkg-deb -f "$deb" Depends)"
  [ $run_tests -ne 0 ] && [ $build_only -eq 0 ] || exit 0
fi
case $run_tests in
  1)
    echo "== tests under qemu-user ($suite $arch)"
    ctest --test-dir "$build" --output-on-failure -j "$(nproc)" ;;
  2)
    echo "== the unit label and the package test under qemu-user ($suite $arch)"
    ctest --test-dir "$build" --output-on-failure -j 8 -L unit
    ctest --test-dir "$build" --output-on-failure -R '^package$' ;;
  3)
    echo "== the package test ($suite $arch)"
    ctest --test-dir "$build" --output-on-failure -R '^package$' ;;
esac
