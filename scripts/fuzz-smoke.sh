#!/usr/bin/env bash
# A short run of the libFuzzer targets for untrusted input (bundle bytes, request JSON, decision
# log records, table data files), so that CI
# catches a crash or sanitizer report on untrusted input that a change brings in. The long
# runs (10 minutes and more per target) are described in fuzz/README.md.
#
#   scripts/fuzz-smoke.sh [pave-binary] [seconds-per-target]
#
# Builds the targets with clang-14 in build-fuzz, seeds each from the example repository
# and the conformance suite's decision cases (bundles built with `pave-binary`, default
# build/pave), then runs each for the given time (default 45 s; CI runs 25 s each). Exits non-zero when a
# target finds anything; the reproducer is left in the run's directory.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
pave=${1:-build/pave}
seconds=${2:-45}
shared=${PAVE_SHARED:-../shared}
[ -x "$pave" ] || { echo "fuzz-smoke.sh: no pave binary at $pave" >&2; exit 2; }

CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DPAVE_WERROR=ON -DPAVE_FUZZ=ON -DPAVE_TESTS=OFF \
  -DPAVE_SHARED_DIR="$shared" >/dev/null
cmake --build build-fuzz --target fuzz_bundle_load fuzz_decide_json fuzz_log_record fuzz_data_file

work=$(mktemp -d)
mkdir -p "$work/bundles" "$work/json" "$work/out-bundles" "$work/out-json" "$work/records" "$work/out-records" \
  "$work/data" "$work/out-data"
"$pave" build examples -o "$work/bundles/examples.pvb" 2>/dev/null
"$pave" build examples --strip -o "$work/bundles/examples-stripped.pvb" 2>/dev/null
if [ -d "$shared/conformance/cases/decision" ]; then
  for c in "$shared"/conformance/cases/decision/*/; do
    "$pave" build "$c/policy.pave" -o "$work/bundles/$(basename "$c").pvb" >/dev/null 2>&1 || true
  done
fi
cp examples/inputs/*.json "$work/json/"
# Decision log records (one per file) and the inputs themselves seed the log target.
"$pave" eval "$work/bundles/examples.pvb" examples/inputs/*.json --log "file:$work/records.jsonl" >/dev/null
split -l 1 "$work/records.jsonl" "$work/records/r-"
cp examples/inputs/*.json "$work/records/"
# Table data files (valid and invalid, both formats) and the example inputs seed the data target.
cp fuzz/data-seeds/* examples/inputs/*.json "$work/data/"
echo "fuzz-smoke: seeds: $(ls "$work/bundles" | wc -l) bundles, $(ls "$work/json" | wc -l) inputs"

run() {  # target, corpus (read), corpus (written): the fuzzer adds what it finds to the second
  local target=$1
  shift
  echo "fuzz-smoke: $target for ${seconds}s"
  (cd "$work" && "$root/build-fuzz/fuzz/$target" "$@" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
    -print_final_stats=1 2>"$work/$target.log") || {
    tail -60 "$work/$target.log" >&2
    echo "fuzz-smoke: $target found a problem; reproducer and log in $work" >&2
    exit 1
  }
  grep -E "stat::number_of_executed_units" "$work/$target.log" || true
}
run fuzz_bundle_load "$work/out-bundles" "$work/bundles"
PAVE_FUZZ_BUNDLE="$work/bundles/examples.pvb" run fuzz_decide_json "$work/out-json" "$work/json" -max_len=4096
run fuzz_log_record "$work/out-records" "$work/records" -max_len=8192
run fuzz_data_file "$work/out-data" "$work/data" -max_len=4096
rm -rf "$work"
