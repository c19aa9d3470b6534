#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang under ASan+UBSan and runs each one.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TREE]   (default 60, as in CI; e.g. 3600 for a long run)
#   TREE: a build tree that has the targets already (CI's ASan tree, built with clang and
#   -DSHACKD_FUZZ=ON): they run from there, nothing is built. Without it, build-fuzz is built
#   optimised (more inputs a second, for long runs).
# Seeds: tests/fuzz/corpus/<target>/, plus the shipped and test configs for the config loader.
# What a run finds is kept in build-fuzz/corpus/<target>/ for the next run; a crash, leak or UB
# report stops the script with the input in build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
tree=${2:-}
[[ $secs =~ ^[0-9]+$ ]] || { echo "fuzz: SECONDS must be a whole number, not '$secs'" >&2; exit 64; }
scripts/setup.sh clang libclang-rt-14-dev

if [[ -n $tree ]]; then
  for target in config registers mqtt daemon_mqtt miner_replies; do
    [[ -x $tree/tests/fuzz/fuzz_$target ]] ||
      { echo "fuzz: $tree/tests/fuzz/fuzz_$target is missing (build $tree with clang and -DSHACKD_FUZZ=ON)" >&2; exit 64; }
  done
else
  echo "== fuzz build (clang, libFuzzer, ASan+UBSan)"
  CC=clang CXX=clang++ scripts/build.sh build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHACKD_FUZZ=ON \
    -DSHACKD_SANITIZE=ON -DSHACKD_TESTS=OFF -DSHACKD_BENCH=OFF
  tree=build-fuzz
fi

mkdir -p build-fuzz/artifacts build-fuzz/seeds/config
# The config loader also starts from every real config in the tree.
cp config/*.yaml build-fuzz/seeds/config/
for f in tests/e2e/*.yaml; do cp "$f" "build-fuzz/seeds/config/e2e-$(basename "$f")"; done

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# fuzz_one TARGET: one target for $secs seconds, its output in build-fuzz/fuzz_TARGET.log.
fuzz_one() {
  local target=$1 seeds=("tests/fuzz/corpus/$1")
  mkdir -p "build-fuzz/corpus/$target"
  [ -d "build-fuzz/seeds/$target" ] && seeds+=("build-fuzz/seeds/$target")
  "$tree/tests/fuzz/fuzz_$target" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -max_len=16384 -artifact_prefix="build-fuzz/artifacts/$target-" "build-fuzz/corpus/$target" "${seeds[@]}" \
    2>"build-fuzz/fuzz_$target.log"
}
# Each target is one process on one core: as many at once as there are cores.
targets=(config registers mqtt daemon_mqtt miner_replies)
for target in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= $(nproc))); do wait -n || true; done
  echo "== fuzz_$target for ${secs} s"
  rm -f "build-fuzz/fuzz_$target.rc"
  (
    rc=0
    fuzz_one "$target" || rc=$?
    echo "$rc" >"build-fuzz/fuzz_$target.rc"
  ) &
done
wait
failed=0
for target in "${targets[@]}"; do
  if [[ $(cat "build-fuzz/fuzz_$target.rc" 2>/dev/null) == 0 ]]; then
    echo "fuzz_$target: $(grep -a -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "build-fuzz/fuzz_$target.log" | tr '\n' ' ')"
  else
    tail -60 "build-fuzz/fuzz_$target.log"
    echo "FAIL: fuzz_$target"
    failed=1
  fi
done
((failed == 0)) || exit 1
echo "fuzz: no crash, leak or undefined behaviour in ${secs} s per target"
