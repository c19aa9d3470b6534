#!/usr/bin/env bash
# Configures and builds one build tree. Usage: scripts/build.sh DIR [extra cmake -D options]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1
shift
cmake -S . -B "$dir" -G Ninja -DSHACKD_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
