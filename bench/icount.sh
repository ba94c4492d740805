#!/usr/bin/env bash
# Instructions per iteration of pave_bench_decide benchmarks, exactly, under callgrind:
# each benchmark runs twice with a fixed iteration count (PAVE_BENCH_ITERATIONS), and the
# difference of the two totals over the difference of the counts cancels start-up and
# bundle loading. Independent of the machine's load, unlike the times.
#
#   bench/icount.sh [build-rt/bench/pave_bench_decide] [benchmark-regex ...]
set -euo pipefail
bin=${1:-build-rt/bench/pave_bench_decide}
shift || true
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  names=(native/cloud_role bind_only/example vm_bound/example bind_only/gen1000 vm_bound/gen1000
         vm_json/example vm_json/gen1000)
fi
command -v valgrind >/dev/null || { echo "icount.sh: needs valgrind" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
total() {  # total instructions of one run: $1 iterations of benchmark $2
  PAVE_BENCH_ITERATIONS=$1 valgrind --tool=callgrind --callgrind-out-file="$tmp/out" "$bin" \
    --benchmark_filter="^$2/" >/dev/null 2>&1
  callgrind_annotate "$tmp/out" | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
}
printf '%-24s %14s\n' benchmark instructions
for name in "${names[@]}"; do
  a=$(total 1 "$name")
  b=$(total 2001 "$name")
  printf '%-24s %14d\n' "$name" $(( (b - a) / 2000 ))
done
