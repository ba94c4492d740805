#!/usr/bin/env python3
"""Checks that the Pave snippets of the documentation are formatted.

    check_docs.py --pave build/pave [--fix] [FILE.md ...]

Without files, checks docs/*.md and docs/diagnostics/*.md of the repository. A fenced
block tagged ```pave is a complete source file (a namespace is optional): it must parse
and `pave fmt` must leave it unchanged. A block tagged ```pave fragment is not a whole
file (an expression, a clause, elided parts `{ … }`, a deliberate syntax error) and is
not checked. An untagged block that starts like Pave source is reported, so that no
snippet escapes the check. `--fix` rewrites unformatted ```pave blocks in place.
Prints `N passed, M failed` and exits 1 when a snippet fails.
"""
import argparse
import difflib
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOOKS_LIKE_PAVE = re.compile(
    r"^(///|namespace [\w.]+;|use [\w.]+|(allow|deny|approve|exception|test|enum|principal|request)"
    r" \w+|def \w+\(|const \w+:|context \{|@\w+\()")


def blocks(lines):
    """(info, first body line index, end index) of each fenced block."""
    out, start, info = [], None, None
    for i, line in enumerate(lines):
        if not line.startswith("```"):
            continue
        if start is None:
            start, info = i, line[3:].strip()
        else:
            out.append((info, start + 1, i))
            start = None
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pave", required=True)
    ap.add_argument("--fix", action="store_true")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    files = args.files or sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")) +
                                 glob.glob(os.path.join(ROOT, "docs", "diagnostics", "*.md")))
    passed = failed = 0
    for path in files:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        name = os.path.relpath(path, ROOT)
        changed = False
        for info, first, end in reversed(blocks(lines)):
            body = lines[first:end]
            where = f"{name}:{first}"
            words = info.split()
            if not words:
                lead = next((b for b in body if b.strip()), "")
                if LOOKS_LIKE_PAVE.match(lead):
                    failed += 1
                    print(f"FAIL {where}: an untagged block that looks like Pave; tag it ```pave "
                          "(or ```pave fragment when it is not a whole file)")
                continue
            if words[0] != "pave" or "fragment" in words[1:]:
                continue
            text = "\n".join(body) + "\n"
            r = subprocess.run([args.pave, "fmt", "-"], input=text, capture_output=True, text=True)
            if r.returncode != 0:
                failed += 1
                print(f"FAIL {where}: does not parse (tag it ```pave fragment if it is not meant to):\n"
                      f"{r.stderr.strip()}")
            elif r.stdout != text:
                if args.fix:
                    lines[first:end] = r.stdout.rstrip("\n").split("\n")
                    changed = True
                    passed += 1
                    continue
                failed += 1
                diff = difflib.unified_diff(body, r.stdout.rstrip("\n").split("\n"), "snippet", "pave fmt",
                                            lineterm="")
                print(f"FAIL {where}: not formatted\n" + "\n".join(diff))
            else:
                passed += 1
        if changed:
            with open(path, "w", encoding="utf-8") as f:
                f.write("\n".join(lines))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
