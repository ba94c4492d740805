#!/usr/bin/env bash
# Everything CI runs, from a fresh Debian machine: set-up, a warnings-as-errors build,
# unit and golden tests (ctest), the conformance suite, the example repository, and the
# same tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${PAVE_SHARED:-../shared}

echo "== build (warnings as errors)"
scripts/setup.sh build

echo "== unit and golden tests"
ctest --test-dir build --output-on-failure -j"$(nproc)"

echo "== conformance suite"
skip=()
[ -s tests/conformance-skip.txt ] && skip=(--skip tests/conformance-skip.txt)
python3 "$shared/conformance/run.py" --pave build/pave "${skip[@]}"

echo "== example repository"
PAVE_NOW=2026-11-27T00:00:00Z scripts/demo.sh build >/dev/null

echo "== sanitizers (ASan + UBSan)"
scripts/setup.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DPAVE_SANITIZE=ON
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$(nproc)"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  python3 "$shared/conformance/run.py" --pave build-asan/pave "${skip[@]}"
