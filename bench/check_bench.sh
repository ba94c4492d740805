#!/usr/bin/env bash
# Times `pave check --no-analyze` on generated repositories of growing size and reports
# wall time and peak memory, with the ratio to the smallest run as the in-run baseline.
# Usage: bench/check_bench.sh [pave-binary]
set -euo pipefail
cd "$(dirname "$0")/.."
pave=${1:-build/pave}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
base=""
printf '%-8s %10s %12s %8s\n' rules seconds peak-MiB ratio
for n in 1000 10000; do
  python3 bench/gen_repo.py "$tmp/r$n" --rules "$n" --types 20 >/dev/null
  # Best of three.
  best=""
  for _ in 1 2 3; do
    /usr/bin/time -f '%e %M' -o "$tmp/time" "$pave" check "$tmp/r$n" --no-analyze --now 2026-11-27 >/dev/null || true
    read -r secs kib <"$tmp/time"
    if [ -z "$best" ] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs; mem=$kib; fi
  done
  [ -z "$base" ] && base=$best
  ratio=$(awk "BEGIN{printf \"%.1f\", ($base > 0 ? $best / $base : 0)}")
  printf '%-8s %10s %12s %8s\n' "$n" "$best" "$((mem / 1024))" "${ratio}x"
done
