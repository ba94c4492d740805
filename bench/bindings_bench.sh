#!/usr/bin/env bash
# Decisions per second through each language binding, beside the C API in the same run, on
# the 1,000-rule generated bundle (shared/peers/gen_corpus.py): from a JSON string and from a
# native input (dict / map / object). Prints ns per decision, decisions/s and each binding's
# overhead per call over the C API. Goals: Python <= 3 us, Go and Node <= 1.5 us overhead per
# decision from a JSON string. Not a test: nothing here is asserted.
# usage: bench/bindings_bench.sh [BUILD_DIR] [SHARED_DIR]   (PAVE_BENCH_ITERATIONS, default 200000)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=$(cd "${1:-build}" && pwd)
shared=$(cd "${2:-${PAVE_SHARED:-../shared}}" && pwd)
iters=${PAVE_BENCH_ITERATIONS:-200000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
# Go's build cache does not key on what pkg-config printed, and the prefix is a new
# temporary folder each run: the flags in the environment (which it does key on) keep a
# package built against an earlier, deleted prefix from being reused.
export CGO_CFLAGS="$(pkg-config --cflags pave) ${CGO_CFLAGS:-}"
export CGO_LDFLAGS="$(pkg-config --libs pave) ${CGO_LDFLAGS:-}"
export LD_LIBRARY_PATH=$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

python3 "$shared/peers/gen_corpus.py" "$tmp/gen" --rules 1000 --inputs 1000 >/dev/null
"$build/pave" build "$tmp/gen" --no-analyze -o "$tmp/gen.pvb" >/dev/null 2>&1
bundle=$tmp/gen.pvb
inputs=$tmp/gen/inputs.jsonl
out=$tmp/results.txt

echo "building the bindings against $prefix ..." >&2
cc -O2 bench/bindings/capi_bench.c $(pkg-config --cflags --libs pave) -o "$tmp/capi_bench"
python3 -m venv "$tmp/venv"
CMAKE_PREFIX_PATH=$prefix "$tmp/venv/bin/python" -m pip install -q --config-settings=build-dir="$tmp/pybuild" ./bindings/python
(cd bindings/node && npm install --no-audit --no-fund --loglevel=error >/dev/null)

echo "running ($iters decisions per measurement) ..." >&2
"$tmp/capi_bench" "$bundle" "$inputs" "$iters" >>"$out"
(cd "$tmp" && "$tmp/venv/bin/python" "$root/bench/bindings/python_bench.py" "$bundle" "$inputs" "$iters") >>"$out"
(cd bindings/go && PAVE_BENCH_BUNDLE=$bundle PAVE_BENCH_INPUTS=$inputs \
  go test -run '^$' -bench . -benchtime="${iters}x" -count=1 .) |
  awk '/^BenchmarkDecide/ { name = $1; sub(/^BenchmarkDecide/, "", name); sub(/-[0-9]+$/, "", name);
    if (name == "JSONString") form = "json-string"; else if (name == "NativeMap") form = "native";
    else if (name == "JSONStringParsed") form = "json-string+parsed"; else form = "parallel8-throughput";
    print "go", form, $3 }' >>"$out"
PAVE_NODE_PACKAGE=$root/bindings/node node bench/bindings/node_bench.js "$bundle" "$inputs" "$iters" >>"$out"

python3 - "$out" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
base = next(float(ns) for b, f, ns in rows if b == "c-api")
print(f"1,000-rule generated bundle, {len(rows)} measurements; overhead = binding - C API (pave_decide from a JSON string)")
print(f"{'binding':8} {'input':22} {'ns/decision':>12} {'decisions/s':>12} {'overhead':>10}")
for b, f, ns in rows:
    ns = float(ns)
    over = "" if b == "c-api" or "throughput" in f else f"{(ns - base) / 1000:+.2f} us"
    print(f"{b:8} {f:22} {ns:12.0f} {1e9 / ns:12,.0f} {over:>10}")
PY
