#!/usr/bin/env bash
# Prints the Debian mirror this machine's apt already uses (the first non-security Debian URI of
# its sources), or deb.debian.org: the one place the build roots and sysroots fetch from.
set -euo pipefail
mirror=$(grep -hoE '^URIs:[[:space:]]*[^[:space:]]+' /etc/apt/sources.list.d/*.sources 2>/dev/null \
  | grep -v security | grep debian | head -1 | awk '{print $2}' || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $0 !~ /security/ && /debian/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
echo "${mirror:-http://deb.debian.org/debian}"
