#!/usr/bin/env bash
# The daemon as a process against hostile network peers (issues 48, 49): tests/e2e/hostile_peers.py.
# Usage: hostile_peers.sh path/to/shackd path/to/source
set -uo pipefail
shackd=${1:?usage: hostile_peers.sh SHACKD SRC}
src=${2:?usage: hostile_peers.sh SHACKD SRC}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 "$src/tests/e2e/hostile_peers.py" "$shackd" "$src/tests/e2e/e2e.yaml" "$dir"
