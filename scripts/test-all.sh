#!/usr/bin/env bash
# Everything CI runs, from a fresh Debian machine: set-up, a warnings-as-errors build,
# unit and golden tests (ctest), the conformance suite, the example repository, a few
# iterations of each decision benchmark (each must get its expected decision), the Python,
# Go and Node bindings with the .deb packages (scripts/bindings-test.sh), the same
# tests again under AddressSanitizer + UndefinedBehaviorSanitizer, the runtime's tests
# built without its SSE2 code paths, and a short run of the runtime's fuzz targets.
set -euo pipefail
cd "$(dirname "$0")/.."
# The conformance suite sits next to the project (../shared). A clone made elsewhere (a
# temporary directory) finds it next to the repository it was cloned from.
shared=${PAVE_SHARED:-../shared}
if [ ! -f "$shared/conformance/run.py" ]; then
  origin=$(git config --get remote.origin.url 2>/dev/null || true)
  if [ -n "$origin" ] && [ -f "$origin/../shared/conformance/run.py" ]; then shared="$origin/../shared"; fi
fi
if [ ! -f "$shared/conformance/run.py" ]; then
  echo "test-all.sh: no conformance suite at $shared/conformance (set PAVE_SHARED to its parent)" >&2
  exit 2
fi
shared=$(cd "$shared" && pwd)

# Each step prints the time since the start, so a slow step shows in the CI log.
step() { printf '== %s [%dm%02ds]\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }

step "build (warnings as errors)"
scripts/setup.sh build -DPAVE_SHARED_DIR="$shared" -DPAVE_BENCH=ON

step "lint the C++ lines changed (scripts/lint-changed.sh: .clang-format, .clang-tidy)"
scripts/lint-changed.sh

# The server tests parse /metrics with the Prometheus project's own parser (PyPI).
python3 -c "import prometheus_client" 2>/dev/null || python3 -m pip install -q prometheus-client

step "unit and golden tests"
ctest --test-dir build --output-on-failure -j"$(nproc)"

step "conformance suite"
skip=()
[ -s tests/conformance-skip.txt ] && skip=(--skip tests/conformance-skip.txt)
python3 "$shared/conformance/run.py" --pave build/pave "${skip[@]}"
# The skipped cases' decisions and policy tests (tests/conformance-skip.txt says why).
python3 tests/conformance_skipped.py --pave build/pave --suite "$shared/conformance" --skip tests/conformance-skip.txt

step "example repository (the demo as the README shows it, on the real clock and on a clock a year ahead)"
if ! command -v faketime >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends faketime >/dev/null
fi
scripts/demo.sh build >/dev/null
faketime -f +365d scripts/demo.sh build >/dev/null

step "pre-merge recipe (docs/pre-merge.md) on examples/, on the example's date"
scripts/pre-merge.sh --pave build/pave --check-runtime-deps
faketime '2026-11-27 10:00:00' scripts/pre-merge.sh --pave build/pave --base examples --out build/pre-merge examples >/dev/null

step "benchmark smoke (every decision benchmark gets its expected decision; times are not checked)"
PAVE_BENCH_ITERATIONS=20 build/bench/pave_bench_decide --benchmark_repetitions=1

step "language bindings and packages (Python, Go, Node, .deb; scripts/bindings-test.sh)"
scripts/bindings-test.sh build "$shared"

step "sanitizers (ASan + UBSan)"
scripts/setup.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DPAVE_SANITIZE=ON -DPAVE_SHARED_DIR="$shared"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp"
# Every test but two end-to-end suites that take a third of this step under the
# sanitizers and exercise nothing the others do not: fmt-repository (the formatter over
# every file of the tree; fmt-golden and fmt-docs run the same code here) and editor-vsix
# (packaging the extension; editor-lsp drives the same server here). Both run in the
# plain build above.
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$(nproc)" -E '^(fmt-repository|editor-vsix)$'
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  python3 "$shared/conformance/run.py" --pave build-asan/pave "${skip[@]}"

step "portable runtime (without the SSE2 code paths; ASan + UBSan, bounds-checked containers)"
cmake -S . -B build-portable -G Ninja -DPAVE_WERROR=ON -DCMAKE_BUILD_TYPE=Debug -DPAVE_SANITIZE=ON \
  -DPAVE_PORTABLE=ON -DCMAKE_CXX_FLAGS=-D_GLIBCXX_ASSERTIONS -DPAVE_SHARED_DIR="$shared" >/dev/null
cmake --build build-portable --target pave_runtime_tests
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  build-portable/tests/unit/runtime/pave_runtime_tests --gtest_brief=1

step "fuzz smoke (runtime targets, clang + libFuzzer)"
PAVE_SHARED="$shared" scripts/fuzz-smoke.sh build/pave 25
step "all passed"
