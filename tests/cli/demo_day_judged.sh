#!/usr/bin/env bash
# The demo_day test can fail (issue 57): demo_day.sh against stand-ins for shackd that print the
# summary line and then exit 1, print it and then a UBSan report, or print no summary; each must be
# refused, and one that does everything right taken.
# Usage: demo_day_judged.sh DEMO_DAY_SH
set -u
judge=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
stub() {
  printf '#!/bin/sh\n%s\n' "$2" >"$dir/$1"
  chmod +x "$dir/$1"
}
summary='echo "summary: primary started 2 time(s)"'
stub exits_1 "$summary; exit 1"
stub ubsan "$summary; echo 'rules/decide.cpp:10:5: runtime error: signed integer overflow' >&2"
stub asan "$summary; echo '==123==ERROR: AddressSanitizer: heap-use-after-free' >&2"
stub no_summary 'echo "summary: primary started 0 time(s)"'
stub good "$summary"
failed=0
for s in exits_1 ubsan asan no_summary; do
  if "$judge" "$dir/$s" >/dev/null 2>&1; then
    echo "FAIL: demo_day.sh took '$s'"
    failed=1
  fi
done
if ! "$judge" "$dir/good" >/dev/null 2>&1; then
  echo "FAIL: demo_day.sh refused a good run"
  failed=1
fi
((failed == 0)) && echo "demo_day_judged: ok"
exit "$failed"
