#!/usr/bin/env bash
# The language bindings and the packages (bindings/README.md): installs the build into a
# temporary prefix, prepares the shared fixtures (every decision case of the conformance
# suite through `pave eval`, a signed bundle and keys), then runs
#   - the shared library check (only `pave_*` exported, soname libpave.so.0),
#   - the Python suite (pip builds the wheel: scikit-build-core + nanobind from PyPI; installed in
#     a fresh venv and run with the install prefix moved away and LD_LIBRARY_PATH unset: the
#     wheel carries libpave.so.0),
#   - the Go suite (go test, -race) and the Go example,
#   - the Node suite (node-addon-api from npm; node --test) and `npm pack` installed elsewhere,
#   - the .deb packages: cpack, `dpkg -x` into a temporary root, a small C program built with
#     `pkg-config --cflags --libs pave` and with find_package(Pave), and a Go program using the
#     Go module libpave-dev ships (/usr/share/gocode/src/pave.internal/pave, replace directive),
#     deciding.
# usage: scripts/bindings-test.sh [BUILD_DIR] [SHARED_DIR]   (defaults: build, ../shared)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=$(cd "${1:-build}" && pwd)
shared=${2:-${PAVE_SHARED:-../shared}}
shared=$(cd "$shared" && pwd)

missing=()
for tool in python3 go node npm pkg-config cc cmake cpack dpkg-deb openssl nm readelf; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bindings-test.sh: missing tools: ${missing[*]} (install them: see README.md, Dependencies)" >&2
  exit 2
fi
[ -x "$build/pave" ] && [ -e "$build/runtime/libpave.so.0" ] || {
  echo "bindings-test.sh: $build has no pave or runtime/libpave.so.0: build the project first" >&2
  exit 2
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
fixtures=$tmp/fixtures
export PAVE_BINDINGS_FIXTURES=$fixtures

echo "== bindings: install into a temporary prefix, prepare fixtures"
cmake --install "$build" --prefix "$prefix" >/dev/null
python3 bindings/testdata/prepare.py --pave "$build/pave" --shared "$shared" --examples examples "$fixtures"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
# Go's build cache does not key on what pkg-config printed, and the prefix is a new
# temporary folder each run: the flags in the environment (which it does key on) keep a
# package built against an earlier, deleted prefix from being reused.
export CGO_CFLAGS="$(pkg-config --cflags pave) ${CGO_CFLAGS:-}"
export CGO_LDFLAGS="$(pkg-config --libs pave) ${CGO_LDFLAGS:-}"
export LD_LIBRARY_PATH=$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

echo "== bindings: shared library exports only the C API"
lib=$prefix/lib/libpave.so.0
readelf -d "$lib" | grep -q 'SONAME.*\[libpave.so.0\]' || { echo "libpave.so.0 has the wrong soname" >&2; exit 1; }
others=$(nm -D --defined-only "$lib" | awk '$2 != "A" {print $3}' | grep -v '^pave_' || true)
if [ -n "$others" ]; then echo "libpave.so.0 exports more than pave_*:" >&2; echo "$others" | head >&2; exit 1; fi
echo "libpave.so.0: $(nm -D --defined-only "$lib" | grep -c ' T pave_') functions, all pave_*"

echo "== bindings: Python (pip builds the wheel; installed in a fresh venv; pytest without libpave on the system)"
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q pytest
CMAKE_PREFIX_PATH=$prefix "$tmp/venv/bin/python" -m pip wheel -q --no-deps -w "$tmp/wheel" \
  --config-settings=build-dir="$tmp/pybuild" ./bindings/python
"$tmp/venv/bin/python" -m pip install -q "$tmp"/wheel/pave_policy-*.whl
# The wheel carries libpave.so.0: with the library the wheel was built against moved away,
# LD_LIBRARY_PATH unset and none in the loader's cache, the suite still runs, and the library
# the process maps is the wheel's own.
if ldconfig -p 2>/dev/null | grep -q 'libpave\.so'; then
  echo "bindings-test.sh: a libpave is installed on this system: the wheel's self-containment is not proved" >&2
  exit 1
fi
mv "$prefix" "$prefix.hidden"
(cd "$tmp" && env -u LD_LIBRARY_PATH "$tmp/venv/bin/python" -m pytest -q -p no:cacheprovider "$root/bindings/python/tests")
(cd "$tmp" && env -u LD_LIBRARY_PATH "$tmp/venv/bin/python" - "$fixtures/signed.pvb" "$fixtures/key.pub.pem" \
    "$root/examples/inputs/allow-dev-role.json" "$(head -1 "$fixtures/signed-expected.jsonl")" <<'PY'
import os, sys
import pave
bundle, key, inp, want = sys.argv[1:]
d = pave.Bundle.open(bundle, public_keys=[open(key).read()]).decide(open(inp).read())
assert d.raw == want, d.raw
libs = {l.split()[-1] for l in open("/proc/self/maps") if "libpave.so" in l}
home = os.path.dirname(os.path.realpath(pave.__file__))
assert libs == {os.path.join(home, "libpave.so.0")}, libs
print("wheel: decides with its own", os.path.relpath(libs.pop(), sys.prefix))
PY
)
mv "$prefix.hidden" "$prefix"

echo "== bindings: Go (go test -race, example)"
(cd bindings/go && go vet ./... && go test -count=1 -race ./...)
(cd bindings/go && go run ./example "$fixtures/signed.pvb" "$fixtures/key.pub.pem" "$root/examples/inputs/allow-dev-role.json")

echo "== bindings: Node (node-gyp build, node --test, npm pack)"
(cd bindings/node && npm install --no-audit --no-fund --loglevel=error >/dev/null && UV_THREADPOOL_SIZE=8 npm test --silent)
(cd bindings/node && npm pack --pack-destination "$tmp" --silent >/dev/null)
mkdir -p "$tmp/nodeapp"
(cd "$tmp/nodeapp" && npm init -y >/dev/null && npm install --no-audit --no-fund --loglevel=error "$tmp"/pave-policy-*.tgz >/dev/null &&
  node -e '
    const { Bundle } = require("pave-policy");
    const fs = require("fs");
    const [bundle, key, input, want] = process.argv.slice(1);
    const b = Bundle.open(bundle, { publicKeys: [fs.readFileSync(key, "utf8")] });
    const d = b.decide(fs.readFileSync(input, "utf8"));
    if (d.raw !== want) { console.error("npm-packed addon decided", d.raw); process.exit(1); }
    console.log("npm pack: installed package decides", d.decision);
  ' "$fixtures/signed.pvb" "$fixtures/key.pub.pem" "$root/examples/inputs/allow-dev-role.json" \
    "$(head -1 "$fixtures/signed-expected.jsonl")")

echo "== bindings: .deb packages (dpkg -x, pkg-config, find_package)"
(cd "$build" && cpack -G DEB -B "$tmp/deb" >/dev/null)
debroot=$tmp/debroot
for p in pave libpave0 libpave-dev; do
  deb=$(ls "$tmp"/deb/${p}_*.deb)
  dpkg-deb -x "$deb" "$debroot"
  echo "$(basename "$deb"): $(dpkg-deb -f "$deb" Depends)"
done
pcdir=$(dirname "$(find "$debroot" -name pave.pc)")
libdir=$(dirname "$(find "$debroot" -name 'libpave.so.0' | head -1)")
flags=$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs pave)
cc bindings/testdata/decide_min.c $flags -o "$tmp/decide_min"
want=$(head -1 "$fixtures/signed-expected.jsonl")
got=$(LD_LIBRARY_PATH=$libdir "$tmp/decide_min" "$fixtures/signed.pvb" "$fixtures/key.pub.pem" examples/inputs/allow-dev-role.json)
[ "$got" = "$want" ] || { echo "deb: decide_min printed $got" >&2; exit 1; }
cmake -S bindings/testdata/cmake-consumer -B "$tmp/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$debroot/usr" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
got=$(LD_LIBRARY_PATH=$libdir "$tmp/consumer/decide_min" "$fixtures/signed.pvb" "$fixtures/key.pub.pem" examples/inputs/allow-dev-role.json)
[ "$got" = "$want" ] || { echo "deb: find_package build printed $got" >&2; exit 1; }
# Go, the documented way: libpave-dev's module sources under /usr/share/gocode/src, required
# through a replace directive, nothing fetched (GOPROXY=off), cgo flags from the deb's pave.pc.
gosrc=$debroot/usr/share/gocode/src/pave.internal/pave
[ -f "$gosrc/go.mod" ] || { echo "deb: libpave-dev has no Go module at /usr/share/gocode/src/pave.internal/pave" >&2; exit 1; }
mkdir -p "$tmp/goapp" && cp bindings/testdata/go-consumer/main.go "$tmp/goapp/"
(cd "$tmp/goapp" && export GOPROXY=off GOFLAGS=-mod=mod PKG_CONFIG_PATH=$pcdir &&
  export CGO_CFLAGS="$(pkg-config --cflags pave)" CGO_LDFLAGS="$(pkg-config --libs pave)" &&
  go mod init example.com/broker >/dev/null 2>&1 &&
  go mod edit -require=pave.internal/pave@v0.1.0 -replace=pave.internal/pave="$gosrc" &&
  go build -o "$tmp/go-consumer" .)
got=$(LD_LIBRARY_PATH=$libdir "$tmp/go-consumer" "$fixtures/signed.pvb" "$fixtures/key.pub.pem" examples/inputs/allow-dev-role.json)
[ "$got" = "$want" ] || { echo "deb: the Go program built from libpave-dev's module printed $got" >&2; exit 1; }
LD_LIBRARY_PATH=$libdir "$debroot/usr/bin/pave" eval "$fixtures/signed.pvb" examples/inputs/allow-dev-role.json >/dev/null
echo "deb: a C program built with pkg-config, one with find_package(Pave) and a Go program using libpave-dev's module decide like pave eval"
echo "== bindings: all passed"
