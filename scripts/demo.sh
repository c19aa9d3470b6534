#!/usr/bin/env bash
# Sets up, builds, and runs the demo: the rules over a built-in simulated day at the Solar Shack.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
exec build/shackd demo-day
