#!/usr/bin/env bash
# Lints the C++ lines changed since BASE: clang-format (.clang-format, `--dry-run -Werror`)
# and clang-tidy (.clang-tidy: a few bug checks and the naming, with the build directory's
# compile_commands.json). Only the changed lines are checked, so the tree needs no
# wholesale reformat and a typical change takes seconds.
#
#   scripts/lint-changed.sh [BASE]
#
# BASE defaults to the merge base with `main` on another branch, else the previous commit.
# Uncommitted changes count as changed. PAVE_BUILD_DIR names the build directory (build).
# Headers are formatted; clang-tidy checks their changed lines through the changed .cpp
# files that include them.
set -euo pipefail
cd "$(dirname "$0")/.."

base=${1:-}
if [ -z "$base" ]; then
  branch=$(git rev-parse --abbrev-ref HEAD)
  if [ "$branch" != main ] && git rev-parse -q --verify main >/dev/null; then
    base=$(git merge-base HEAD main)
  else
    base=HEAD~1
  fi
fi
if ! git rev-parse -q --verify "$base^{commit}" >/dev/null; then
  echo "lint-changed: no commit $base to compare with (a shallow clone?); skipped"
  exit 0
fi
build=${PAVE_BUILD_DIR:-build}
fmt=$(command -v clang-format-14 || command -v clang-format || true)
tidy=$(command -v clang-tidy-14 || command -v clang-tidy || true)
if [ -z "$fmt" ] || [ -z "$tidy" ]; then
  echo "lint-changed: clang-format and clang-tidy are needed (apt-get install clang-format clang-tidy)" >&2
  exit 2
fi

mapfile -t files < <(git diff --name-only --diff-filter=ACMR "$base" -- '*.cpp' '*.h' | grep -v '^build' || true)
if ((${#files[@]} == 0)); then
  echo "lint-changed: no C++ file changed since $base"
  exit 0
fi

# The changed lines of a file as `first:last` ranges (the new side of each hunk).
ranges() {
  git diff -U0 "$base" -- "$1" | sed -n 's/^@@ -[0-9,]* +\([0-9]*\)\(,\([0-9]*\)\)\{0,1\} @@.*/\1 \3/p' |
    while read -r start count; do
      count=${count:-1}
      ((count > 0)) && echo "$start:$((start + count - 1))"
    done
  return 0
}

status=0
filter="["
sources=()
for f in "${files[@]}"; do
  mapfile -t rs < <(ranges "$f")
  ((${#rs[@]})) || continue
  args=()
  pairs=""
  for r in "${rs[@]}"; do
    args+=("--lines=$r")
    pairs+="${pairs:+,}[${r%%:*},${r##*:}]"
  done
  "$fmt" --dry-run -Werror "${args[@]}" "$f" || status=1
  filter+="{\"name\":\"$PWD/$f\",\"lines\":[$pairs]},"
  [[ "$f" == *.cpp ]] && sources+=("$f")
done
filter="${filter%,}]"

if ((${#sources[@]})); then
  if [ -f "$build/compile_commands.json" ]; then
    for f in "${sources[@]}"; do
      # Files outside the build (a disabled option's sources) have no compile command. The
      # ANTLR 4 runtime's headers do not compile with clang 14: the files that include them
      # are only formatted.
      grep -q "antlr4\|Pave\(Lexer\|Parser\)\.h\|AntlrAdapters\.h\|ParsedFile\.h\|SyntaxErrors\.h" "$f" && continue
      grep -q "\"file\": \"$PWD/$f\"" "$build/compile_commands.json" || continue
      "$tidy" -p "$build" --quiet --line-filter="$filter" --extra-arg=-Wno-unknown-warning-option "$f" \
        2> >(grep -v "warnings generated\|warnings and .* errors generated\|^Suppressed\|^Use -header-filter" >&2) ||
        status=1
    done
  else
    echo "lint-changed: no $build/compile_commands.json, clang-tidy skipped (configure the build first)" >&2
  fi
fi

if ((status)); then
  echo "lint-changed: problems in the lines changed since $base (clang-format -i --lines=… fixes the format)" >&2
else
  echo "lint-changed: ${#files[@]} file(s) changed since $base: clean"
fi
exit $status
