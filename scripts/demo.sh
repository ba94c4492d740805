#!/usr/bin/env bash
# The main job on the bundled example repository: check, test, build a bundle and
# evaluate the sample inputs. Usage: scripts/demo.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
[ -x "$build/pave" ] || scripts/setup.sh "$build"
pave="$build/pave"
# PAVE_NOW pins the check time (CI sets it, so that expiring exceptions in the example
# cannot turn CI red on a later date); by default the current time is used.
now=()
[ -n "${PAVE_NOW:-}" ] && now=(--now "$PAVE_NOW")

echo "== pave check examples"
"$pave" check examples "${now[@]}"
if "$pave" test --help >/dev/null 2>&1; then
  echo "== pave test examples"
  "$pave" test examples "${now[@]}"
fi
if "$pave" build --help >/dev/null 2>&1; then
  echo "== pave build examples"
  "$pave" build examples -o "$build/acme-platform.pvb" "${now[@]}"
  echo "== pave eval"
  for input in examples/inputs/*.json; do
    echo "-- $input"
    "$pave" eval "$build/acme-platform.pvb" "$input" --explain
  done
fi
