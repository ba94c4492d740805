#!/usr/bin/env bash
# The main job on the bundled example repository: check, test, build a bundle and
# evaluate the sample inputs. Usage: scripts/demo.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
[ -x "$build/pave" ] || scripts/setup.sh "$build"
pave="$build/pave"

echo "== pave check examples"
"$pave" check examples
if "$pave" test --help >/dev/null 2>&1; then
  echo "== pave test examples"
  "$pave" test examples
fi
if "$pave" build --help >/dev/null 2>&1; then
  echo "== pave build examples"
  "$pave" build examples -o "$build/acme-platform.pvb"
  echo "== pave eval"
  for input in examples/inputs/*.json; do
    echo "-- $input"
    "$pave" eval "$build/acme-platform.pvb" "$input" --explain
  done
fi
