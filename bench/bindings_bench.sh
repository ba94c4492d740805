#!/usr/bin/env bash
# Decisions per second through each language binding, beside the C API in the same run, on
# the 1,000-rule generated bundle (shared/peers/gen_corpus.py): from a JSON string and from a
# native input (dict / map / object). Prints ns per decision, decisions/s and each binding's
# overhead per call over the C API. Goals: Python <= 3 us, Go and Node <= 1.5 us overhead per
# decision from a JSON string. Not a test: nothing here is asserted.
#
# Times are process CPU time (every thread of the process), so that time spent waiting for a
# core on a loaded machine does not count. Go and Node also measure the C API in their own
# process (a C loop of pave_decide), in rounds alternating with the binding, and their
# overhead is the median of the per-round differences: both sides of each difference ran
# under the same load. Python's overhead is against the C program run just before it. The
# 8-goroutine and decideAsync figures are wall-clock throughput.
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
  go test -run '^$' -bench 'Overhead|Parallel8' -benchtime="${iters}x" -count=1 .) |
  awk '/^BenchmarkOverhead\// { form = $1; sub(/^BenchmarkOverhead\//, "", form); sub(/-[0-9]+$/, "", form);
         for (i = 3; i < NF; i++) { if ($(i+1) == "c-cpu-ns/op") c = $i; if ($(i+1) == "go-cpu-ns/op") g = $i;
                                    if ($(i+1) == "overhead-ns/op") o = $i }
         print "go", form "/c-api", c; print "go", form, g; print "go", form "-overhead", o }
       /^BenchmarkDecideParallel8/ { print "go", "parallel8-throughput", $3 }' >>"$out"
PAVE_NODE_PACKAGE=$root/bindings/node node bench/bindings/node_bench.js "$bundle" "$inputs" "$iters" >>"$out"

python3 - "$out" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
over = {(b, f[: -len("-overhead")]): float(ns) for b, f, ns in rows if f.endswith("-overhead")}
base = next(float(ns) for b, f, ns in rows if b == "c-api")
print(f"1,000-rule generated bundle; ns = process CPU time per decision (throughput rows: wall clock)")
print("overhead = binding - C API: Go and Node against the C loop in the same process (median of")
print("alternating rounds), Python against the C program run just before it")
print(f"{'binding':8} {'input':26} {'ns/decision':>12} {'decisions/s':>12} {'overhead':>10}")
for b, f, ns in rows:
    if f.endswith("-overhead"):
        continue
    ns = float(ns)
    if b == "c-api" or "throughput" in f or "c-api" in f:
        o = ""
    elif (b, f) in over:
        o = f"{over[(b, f)] / 1000:+.2f} us"
    else:
        o = f"{(ns - base) / 1000:+.2f} us"
    print(f"{b:8} {f:26} {ns:12.0f} {1e9 / ns:12,.0f} {o:>10}")
PY
