#!/usr/bin/env bash
# The shipped Prometheus rules (contrib/prometheus/): well-formed, and doing what their unit tests
# say (`promtool test rules`: when each alert fires and when it clears). No build needed.
set -uo pipefail
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v promtool >/dev/null || { echo "FAIL: promtool is not installed (scripts/setup.sh installs prometheus)"; exit 1; }
cd "$SRC/contrib/prometheus" || exit 1
promtool check rules shackd-rules.yml && promtool test rules shackd-rules.test.yml && promtool check config prometheus.yml
