#!/usr/bin/env bash
# Configures and builds one build tree.
# Usage: scripts/build.sh DIR [extra cmake -D options] [-- TARGET...]   (no target: all of them)
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
cmake -S . -B "$dir" -G Ninja -DSHACKD_WERROR=ON "${options[@]}" >/dev/null
if ((${#targets[@]})); then
  cmake --build "$dir" -j "$(nproc)" --target "${targets[@]}"
else
  cmake --build "$dir" -j "$(nproc)"
fi
