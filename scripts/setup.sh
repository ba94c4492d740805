#!/usr/bin/env bash
# Installs the Debian packages Pave builds with, when they are missing, then configures
# and builds. Usage: scripts/setup.sh [build-dir] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(cmake ninja-build g++ pkg-config python3 openssl
  antlr4 libantlr4-runtime-dev llvm-14-dev libfmt-dev libcli11-dev libgtest-dev
  libz3-dev libssl-dev nlohmann-json3-dev libtomlplusplus-dev libbenchmark-dev libcpp-httplib-dev zlib1g-dev
  clang-14 libclang-rt-14-dev clang-format clang-tidy)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

build=${1:-build}
shift || true
cmake -S . -B "$build" -G Ninja -DPAVE_WERROR=ON "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
