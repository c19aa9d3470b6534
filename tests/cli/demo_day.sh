#!/usr/bin/env bash
# `shackd demo-day` judged by its exit code and its output (issue 57): it must exit 0, print its
# summary with the primary started, and print no sanitizer's report. CTest's PASS_REGULAR_EXPRESSION
# ignores the exit code: with it, a UBSan report after the summary line passed.
# Usage: demo_day.sh SHACKD
set -u
shackd=$1
out=$("$shackd" demo-day 2>&1)
rc=$?
printf '%s\n' "$out"
fail() {
  echo "demo_day: FAIL: $*" >&2
  exit 1
}
((rc == 0)) || fail "shackd demo-day exited $rc"
grep -Eq 'summary: primary started [1-9]' <<<"$out" || fail "no summary line with the primary started"
if grep -Eq 'runtime error:|Sanitizer|==[0-9]+==ERROR' <<<"$out"; then fail "a sanitizer's report in the output"; fi
echo "demo_day: ok (exit 0, the summary, no sanitizer report)"
