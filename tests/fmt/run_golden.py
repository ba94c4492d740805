#!/usr/bin/env python3
"""Golden tests of `pave fmt`'s layout.

    run_golden.py --pave build/pave [--update] [GOLDEN_DIR]

For every `NAME.in.pave` in GOLDEN_DIR (default: tests/fmt/golden) the formatted text
must equal `NAME.out.pave` byte for byte, the expected file must already be formatted
(idempotence), and no line of it may be wider than 100 columns unless a single string
literal or a trailing comment (kept as written) makes it so. `--update` rewrites the expected files from the current output
(review with `git diff`). Prints `N passed, M failed` and exits 1 when a case fails.
"""
import argparse
import glob
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import Tally  # noqa: E402

WIDTH = 100
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def fmt(pave, text):
    return subprocess.run([pave, "fmt", "-"], input=text, capture_output=True, text=True)


def code_part(line):
    """The line without its trailing `//` comment (the author's words, which the formatter
    keeps as written: a golden test's `//! code: message` marker is one)."""
    in_string = False
    i = 0
    while i < len(line):
        c = line[i]
        if in_string:
            if c == "\\":
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif line.startswith("//", i):
            return line[:i].rstrip()
        i += 1
    return line


def over_wide(text):
    """Lines wider than WIDTH that a single over-long literal or a trailing comment does
    not explain."""
    bad = []
    for n, full in enumerate(text.splitlines(), 1):
        line = code_part(full)
        if len(line) <= WIDTH:
            continue
        literals = STRING.findall(line)
        longest = max(literals, key=len) if literals else ""
        if not longest or len(line) - len(longest) + 2 > WIDTH:
            bad.append(f"line {n} has {len(line)} columns of code")
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pave", required=True)
    ap.add_argument("--update", action="store_true")
    ap.add_argument("dir", nargs="?", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden"))
    args = ap.parse_args()
    tally = Tally()
    cases = sorted(glob.glob(os.path.join(args.dir, "*.in.pave")))
    if not cases:
        print(f"no *.in.pave in {args.dir}")
        return 1
    for case in cases:
        name = os.path.basename(case)[: -len(".in.pave")]
        expected_path = case[: -len(".in.pave")] + ".out.pave"
        with open(case, encoding="utf-8") as f:
            source = f.read()
        r = fmt(args.pave, source)
        problems = []
        if r.returncode != 0:
            problems.append(f"pave fmt exited {r.returncode}: {r.stderr.strip()}")
        elif args.update:
            with open(expected_path, "w", encoding="utf-8") as f:
                f.write(r.stdout)
        if not problems:
            expected = open(expected_path, encoding="utf-8").read() if os.path.exists(expected_path) else None
            if expected is None:
                problems.append(f"missing {os.path.basename(expected_path)} (run with --update)")
            else:
                if r.stdout != expected:
                    import difflib
                    diff = difflib.unified_diff(expected.splitlines(), r.stdout.splitlines(), "expected", "actual",
                                                lineterm="")
                    problems.append("output differs:\n" + "\n".join(diff))
                again = fmt(args.pave, expected)
                if again.returncode != 0 or again.stdout != expected:
                    problems.append("the expected output is not a fixed point of `pave fmt` (not idempotent)")
                problems += over_wide(expected)
        tally.add(name, problems)
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())
