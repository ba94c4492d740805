#!/bin/sh
# Packages the VS Code extension as `vsce package` does for a release and checks the
# result: no warning, a bundled extension (out/extension.js, vscode-languageclient
# inlined by esbuild) and nothing else but the static contributions, and a bundle that
# loads and exports activate/deactivate. Usage: vsix.sh WORKDIR REPO (npm ci in WORKDIR).
set -eu
work=$1 repo=$2
rm -rf "$work"
mkdir -p "$work"
cd "$repo/editors/vscode"
cp -r package.json package-lock.json tsconfig.json .vscodeignore language-configuration.json src syntaxes "$work/"
cd "$work"
npm ci --no-audit --no-fund --loglevel=error >npm-ci.log 2>&1 || { cat npm-ci.log; exit 1; }
npm run package >package.log 2>&1 || { cat package.log; exit 1; }
if sed 's/\x1b\[[0-9;]*m//g' package.log | grep -i -E "warning|error"; then
  echo "FAIL: vsce package warned"; exit 1
fi
files=$(unzip -Z1 pave.vsix | grep '^extension/' | sort | tr '\n' ' ')
expected="extension/language-configuration.json extension/out/extension.js extension/package.json extension/syntaxes/pave.tmLanguage.json "
[ "$files" = "$expected" ] || { echo "FAIL: the .vsix holds: $files"; exit 1; }
size=$(wc -c <pave.vsix)
[ "$size" -lt 500000 ] || { echo "FAIL: the .vsix has $size bytes"; exit 1; }
mkdir -p stub/node_modules/vscode
# A stand-in for the editor's `vscode` module: every member is a class.
echo 'module.exports = new Proxy({}, { get: (t, k) => (k === "__esModule" ? false : class {}) });' \
  >stub/node_modules/vscode/index.js
NODE_PATH=$PWD/stub/node_modules node -e '
  const ext = require("./out/extension.js");
  if (typeof ext.activate !== "function" || typeof ext.deactivate !== "function") process.exit(1);' \
  >load.log 2>&1 || { tail -c 2000 load.log; echo "FAIL: the bundle does not load"; exit 1; }
echo "pave.vsix: $size bytes, 4 files, no warnings"
