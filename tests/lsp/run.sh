#!/bin/sh
# Runs the editor tests with Node.js: run.sh lsp|grammar|vsix WORKDIR PAVE REPO
# (vsix: the VS Code extension packaged, see vsix.sh)
# Installs the test's npm packages (npm ci from tests/lsp/package-lock.json) in WORKDIR.
# Exits 77 (ctest: skipped) when node or npm is missing.
set -eu
mode=$1 work=$2 pave=$3 repo=$4
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "skipped: node and npm are needed for the editor tests"
  exit 77
fi
if [ "$mode" = vsix ]; then exec sh "$here/vsix.sh" "$work" "$repo"; fi
mkdir -p "$work"
cp "$here/package.json" "$here/package-lock.json" "$here"/*.mjs "$work/"
cd "$work"
npm ci --no-audit --no-fund --loglevel=error >npm-ci.log 2>&1 || { cat npm-ci.log; exit 1; }
case "$mode" in
  lsp) PAVE="$pave" REPO="$repo" exec node --test lsp.test.mjs incremental.test.mjs frontend.test.mjs tables.test.mjs ;;
  grammar) REPO="$repo" exec node --test grammar.test.mjs ;;
  *) echo "unknown mode $mode"; exit 2 ;;
esac
