#!/usr/bin/env bash
# Runs a command that must refuse: exit 1 (not 0, not a crash) and say TEXT.
# Usage: expect_refusal.sh TEXT COMMAND [ARG...]
set -u
text=$1
shift
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out"
if ((rc != 1)); then
  echo "expect_refusal: FAIL: exit $rc, not 1" >&2
  exit 1
fi
if ! grep -Fq -- "$text" <<<"$out"; then
  echo "expect_refusal: FAIL: it did not say '$text'" >&2
  exit 1
fi
echo "expect_refusal: ok (exit 1, '$text')"
