#!/usr/bin/env bash
# Configures and builds one build tree.
# Usage: scripts/build.sh DIR [extra cmake -D options] [-- TARGET...]   (no target: all of them)
# With SHACKD_CCACHE set (scripts/test.sh sets /var/tmp/shackd-ccache) and ccache installed, the
# compiler runs through ccache with that cache: a second CI run recompiles only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1
shift
options=()
targets=()
while (($#)); do
  if [[ $1 == -- ]]; then
    shift
    targets=("$@")
    break
  fi
  options+=("$1")
  shift
done
if [[ -n ${SHACKD_CCACHE:-} ]] && command -v ccache >/dev/null; then
  # Paths under the checkout are hashed relative to it and the working directory is left out
  # of the hash, so another clone of the same commit hits the same entries.
  export CCACHE_DIR=$SHACKD_CCACHE CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-10G}
  options+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$dir" -G Ninja -DSHACKD_WERROR=ON "${options[@]}" >/dev/null
if ((${#targets[@]})); then
  cmake --build "$dir" -j "$(nproc)" --target "${targets[@]}"
else
  cmake --build "$dir" -j "$(nproc)"
fi
