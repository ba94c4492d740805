#!/usr/bin/env python3
"""Golden tests for `pave check`.

Every `.pave` file under tests/check/ (or every directory there whose name ends in `.dir`,
checked as one repository) carries its expected diagnostics inline:

    allow r on CloudRole when request.colour == "red"; //! unknown-attribute

`//! code [code …]` expects each code to start on that line; `//!@N code` on line N.
A `//! code: text` form also requires the message to contain `text`. All error, warning
and info diagnostics reported must be expected, and every expected one must be reported.

    run_check.py --pave build/pave [--update] [--coverage] [paths…]

--update rewrites the markers from what `pave check` reports (review with git diff).
--coverage fails when a code of compiler/diag/kinds.def has no golden test expecting it.
"""
import argparse
import json
import os
import re
import subprocess
import sys

NOW = "2026-11-27T00:00:00Z"
MARK = re.compile(r"//!(@(\d+))?\s*(.*)$")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def cases(paths):
    for base in paths:
        if os.path.isfile(base):
            yield base
            continue
        for dirpath, dirnames, files in os.walk(base):
            dirnames.sort()
            for d in list(dirnames):
                if d.endswith(".dir"):
                    yield os.path.join(dirpath, d)
                    dirnames.remove(d)
            for f in sorted(files):
                if f.endswith(".pave"):
                    yield os.path.join(dirpath, f)


def sources(case):
    if os.path.isfile(case):
        return [case]
    out = []
    for dirpath, _, files in os.walk(case):
        out += [os.path.join(dirpath, f) for f in files if f.endswith(".pave")]
    return sorted(out)


def expectations(case):
    exp = []  # (file, line, code, text)
    for path in sources(case):
        with open(path, encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                pos = line.find("//!")
                if pos < 0:
                    continue
                m = MARK.match(line[pos:].rstrip("\n"))
                at = int(m.group(2)) if m.group(2) else n
                body = m.group(3).strip()
                if ":" in body:
                    codes, text = body.split(":", 1)
                    for c in codes.split():
                        exp.append((os.path.normpath(path), at, c, text.strip()))
                else:
                    for c in body.split():
                        exp.append((os.path.normpath(path), at, c, ""))
    return exp


def run(pave, case):
    p = subprocess.run([pave, "check", case, "--format", "json", "--now", NOW],
                       capture_output=True, text=True, timeout=120)
    if p.returncode not in (0, 1):
        return None, f"pave check exited {p.returncode}: {p.stderr.strip()[:400]}"
    try:
        diags = json.loads(p.stdout)["diagnostics"]
    except (ValueError, KeyError) as e:
        return None, f"no JSON diagnostics ({e}): {p.stdout[:200]!r}"
    want_exit = 1 if any(d["severity"] == "error" for d in diags) else 0
    if p.returncode != want_exit:
        return None, f"exit code {p.returncode} does not match the diagnostics (expected {want_exit})"
    return diags, None


def compare(case, diags):
    problems = []
    exp = expectations(case)
    got = [(os.path.normpath(d["file"]), d["line"], d["code"], d["message"]) for d in diags]
    unmatched = list(got)
    for (f, line, code, text) in exp:
        hit = next((g for g in unmatched if g[0] == f and g[1] == line and g[2] == code and text in g[3]), None)
        if hit is None:
            problems.append(f"{f}:{line}: expected {code}{(': ' + text) if text else ''}, not reported")
        else:
            unmatched.remove(hit)
    for (f, line, code, msg) in unmatched:
        problems.append(f"{f}:{line}: unexpected {code}: {msg}")
    return problems


def update(case, diags):
    by_file = {}
    for d in diags:
        by_file.setdefault(os.path.normpath(d["file"]), {}).setdefault(d["line"], []).append(d["code"])
    for path in sources(case):
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        marks = by_file.get(os.path.normpath(path), {})
        out = []
        for n, line in enumerate(lines, 1):
            pos = line.find("//!")
            if pos >= 0 and not MARK.match(line[pos:]).group(1):
                line = line[:pos].rstrip()
            if n in marks and n <= len(lines):
                line = (line + " " if line.strip() else line) + "//! " + " ".join(sorted(marks[n]))
            out.append(line)
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pave", required=True)
    ap.add_argument("--update", action="store_true")
    ap.add_argument("--coverage", action="store_true")
    ap.add_argument("--pending", help="file of codes not produced yet (skipped by --coverage)")
    ap.add_argument("paths", nargs="*", default=[os.path.join(ROOT, "tests", "check")])
    args = ap.parse_args()

    passed = failed = 0
    covered = set()
    for case in cases(args.paths):
        covered |= {c for (_, _, c, _) in expectations(case)}
        if args.coverage:
            continue
        diags, err = run(args.pave, case)
        if err:
            print(f"FAIL {case}: {err}")
            failed += 1
            continue
        if args.update:
            update(case, diags)
        problems = compare(case, diags)
        if problems:
            failed += 1
            print(f"FAIL {case}")
            for p in problems:
                print(f"  {p}")
        else:
            passed += 1
    if args.coverage:
        kinds = open(os.path.join(ROOT, "compiler", "diag", "kinds.def")).read()
        codes = re.findall(r'^PAVE_DIAG\(\w+, "([a-z-]+)"', kinds, re.M)
        pending = set()
        if args.pending:
            with open(args.pending) as f:
                pending = {l.split("#")[0].strip() for l in f} - {""}
        missing = [c for c in codes if c not in covered and c not in pending]
        skipped = [c for c in codes if c not in covered and c in pending]
        for c in missing:
            print(f"FAIL coverage: no golden test expects `{c}`")
        for c in skipped:
            print(f"SKIP coverage: `{c}` is not produced yet (listed in {args.pending})")
        failed += len(missing)
        passed += len(codes) - len(missing) - len(skipped)
        print(f"{passed} passed, {failed} failed, {len(skipped)} skipped")
        return 1 if failed else 0
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
