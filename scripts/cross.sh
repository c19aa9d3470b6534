#!/usr/bin/env bash
# Cross-builds shackd for a Raspberry Pi, runs the tests under qemu-user, and makes the .deb.
# Usage: scripts/cross.sh [arm64|armhf] [--no-test]
#   arm64: Pi 3/4/5 on 64-bit Raspberry Pi OS bookworm (Debian arm64)
#   armhf: Pi 2/3/4/5, Zero 2 W on 32-bit Raspberry Pi OS; NOT the ARMv6 Pi 1 / Zero / Zero W
# Installs what is missing (the cross compiler, qemu-user) with apt-get, makes a sysroot from the
# target's .debs (scripts/cross-sysroot.sh; the host's packages stay as they are), builds in
# build-<arch>/ and leaves build-<arch>/shackd_<version>_<arch>.deb.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:-arm64}
run_tests=1
[ "${2:-}" = "--no-test" ] && run_tests=0
case $arch in
  arm64) triplet=aarch64-linux-gnu ;;
  armhf) triplet=arm-linux-gnueabihf ;;
  *) echo "cross: unknown architecture '$arch' (arm64 or armhf)" >&2; exit 64 ;;
esac

scripts/setup.sh "g++-$triplet" qemu-user

build="build-$arch"
mkdir -p "$build"
sysroot="$(pwd)/$build/sysroot"
scripts/cross-sysroot.sh "$arch" "$sysroot"

echo "== cross build ($arch, RelWithDebInfo, -Werror)"
# RelWithDebInfo (-O2, as Debian builds): GCC 12 at -O3 reports a false -Wrestrict in
# libstdc++'s string concatenation (GCC bug 105329). The package strips the debug info.
scripts/build.sh "$build" -DCMAKE_TOOLCHAIN_FILE="cross/$triplet.cmake" -DSHACKD_SYSROOT="$sysroot" \
  -DSHACKD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [ $run_tests -eq 1 ]; then
  echo "== tests under qemu-user ($arch)"
  ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
fi
(cd "$build" && cpack >/dev/null)
deb=$(ls "$build"/shackd_*_"$arch".deb)
"$triplet-strip" -o "$build/shackd.stripped" "$build/shackd"
echo "cross: $deb ($(stat -c %s "$deb") bytes; stripped binary $(stat -c %s "$build/shackd.stripped") bytes)"
