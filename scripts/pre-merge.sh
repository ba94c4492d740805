#!/usr/bin/env bash
# The pre-merge check of a policy repository (docs/pre-merge.md): what CI runs on a pull
# request, and what anyone can run before pushing.
#
#   scripts/pre-merge.sh [--pave PATH] [--format text|github] [--base DIR] [--out DIR] [REPO]
#
# REPO is the policy repository, the folder of its pave.toml (default: the current folder).
# From there it runs, in order, and reports every step that fails:
#   pave check .          diagnostics with the severities of REPO/pave.toml (--format, and
#                         SARIF into OUT/pave.sarif for code scanning)
#   pave test .           the policy's tests (JUnit into OUT/pave-tests.xml)
#   pave fmt --check .    canonical layout
#   pave diff BASE .      with --base (the base version's checkout): what the change does,
#                         as Markdown in OUT/impact.md; a change is not a failure, an error is
# OUT defaults to REPO/.pave-out. PAVE_NOW=<timestamp> passes `--now` to check and test.
# The pave executable is --pave, else $PAVE, else `pave` on PATH, else build/pave beside
# this script. `pave diff` has no `--now`: it checks both versions on the real clock.
# Missing runtime libraries of pave are installed first (Debian, apt-get, as
# root or through sudo). Exit status: 0 all steps passed, 1 a step failed, 2 usage.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# The Debian packages pave's executable loads (beyond libc). `--check-runtime-deps` only
# verifies this list against the executable's shared libraries (CI runs it).
RUNTIME_PACKAGES=(libfmt9 libtomlplusplus3 libssl3 libz3-4 libtinfo6 libstdc++6 libgcc-s1 libcpp-httplib0.11 zlib1g libbrotli1)

pave=${PAVE:-} format=text base="" out="" repo="." check_deps=0
usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
  case "$1" in
    --pave) pave=$2; shift 2 ;;
    --format) format=$2; shift 2 ;;
    --base) base=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --check-runtime-deps) check_deps=1; shift ;;
    -h|--help) usage ;;
    -*) echo "pre-merge.sh: unknown option $1" >&2; usage ;;
    *) repo=$1; shift ;;
  esac
done
case "$format" in text|github) ;; *) echo "pre-merge.sh: --format is text or github" >&2; exit 2 ;; esac
if [ -z "$pave" ]; then
  if command -v pave >/dev/null 2>&1; then pave=$(command -v pave); else pave="$here/../build/pave"; fi
fi
[ -x "$pave" ] || { echo "pre-merge.sh: no pave executable at $pave (use --pave, or scripts/setup.sh)" >&2; exit 2; }
pave=$(cd "$(dirname "$pave")" && pwd)/$(basename "$pave")

# Runtime libraries.
if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for p in "${RUNTIME_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "pre-merge: installing ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if ((check_deps)); then
    for lib in $(ldd "$pave" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'); do
      real=$(readlink -f "$lib")
      pkg=$(dpkg-query -S "$real" 2>/dev/null || dpkg-query -S "${real#/usr}" 2>/dev/null || true)
      pkg=${pkg%%:*}
      [ -z "$pkg" ] || [ "$pkg" = libc6 ] && continue
      if [[ " ${RUNTIME_PACKAGES[*]} " != *" $pkg "* ]]; then
        echo "pre-merge.sh: $pave loads $lib from package $pkg, which RUNTIME_PACKAGES lacks" >&2
        exit 1
      fi
    done
    echo "pre-merge: RUNTIME_PACKAGES covers every library $pave loads"
    exit 0
  fi
fi

# --base and --out are relative to the caller's folder, not to REPO.
[ -n "$base" ] && { [ -e "$base" ] || { echo "pre-merge.sh: no such base: $base" >&2; exit 2; }; base=$(cd "$base" && pwd); }
[ -n "$out" ] && { mkdir -p "$out"; out=$(cd "$out" && pwd); }
cd "$repo"
[ -f pave.toml ] || echo "pre-merge: warning: no pave.toml in $repo; the defaults apply"
out=${out:-.pave-out}
mkdir -p "$out"
now=()
[ -n "${PAVE_NOW:-}" ] && now=(--now "$PAVE_NOW")
failed=()

echo "== pave check"
"$pave" check . --format "$format" "${now[@]}" || failed+=(check)
"$pave" check . --format sarif "${now[@]}" >"$out/pave.sarif" || true
echo "== pave test"
"$pave" test . "${now[@]}" || failed+=(test)
"$pave" test . --format junit "${now[@]}" >"$out/pave-tests.xml" || true
echo "== pave fmt --check"
"$pave" fmt --check . || failed+=(fmt)
if [ -n "$base" ]; then
  echo "== pave diff $base ."
  rc=0
  "$pave" diff "$base" . >"$out/impact.md" || rc=$?
  if ((rc > 1)); then failed+=(diff); else cat "$out/impact.md"; fi
fi

if ((${#failed[@]})); then
  echo "pre-merge: failed: ${failed[*]}" >&2
  exit 1
fi
echo "pre-merge: passed (reports in $out)"
