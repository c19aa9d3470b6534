#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang under ASan+UBSan and runs each one.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 60, as in CI; e.g. 3600 for a long run)
# Seeds: tests/fuzz/corpus/<target>/, plus the shipped and test configs for the config loader.
# What a run finds is kept in build-fuzz/corpus/<target>/ for the next run; a crash, leak or UB
# report stops the script with the input in build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
[[ $secs =~ ^[0-9]+$ ]] || { echo "fuzz: SECONDS must be a whole number, not '$secs'" >&2; exit 64; }
scripts/setup.sh clang libclang-rt-14-dev

echo "== fuzz build (clang, libFuzzer, ASan+UBSan)"
CC=clang CXX=clang++ scripts/build.sh build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHACKD_FUZZ=ON \
  -DSHACKD_SANITIZE=ON -DSHACKD_TESTS=OFF -DSHACKD_BENCH=OFF

mkdir -p build-fuzz/artifacts build-fuzz/seeds/config
# The config loader also starts from every real config in the tree.
cp config/*.yaml build-fuzz/seeds/config/
for f in tests/e2e/*.yaml; do cp "$f" "build-fuzz/seeds/config/e2e-$(basename "$f")"; done

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for target in config registers mqtt daemon_mqtt; do
  mkdir -p "build-fuzz/corpus/$target"
  seeds=("tests/fuzz/corpus/$target")
  [ -d "build-fuzz/seeds/$target" ] && seeds+=("build-fuzz/seeds/$target")
  echo "== fuzz_$target for ${secs} s"
  "build-fuzz/tests/fuzz/fuzz_$target" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -max_len=16384 -artifact_prefix="build-fuzz/artifacts/$target-" "build-fuzz/corpus/$target" "${seeds[@]}" \
    2>"build-fuzz/fuzz_$target.log" || { tail -60 "build-fuzz/fuzz_$target.log"; echo "FAIL: fuzz_$target"; exit 1; }
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|cov: " "build-fuzz/fuzz_$target.log" | tail -3
done
echo "fuzz: no crash, leak or undefined behaviour in ${secs} s per target"
