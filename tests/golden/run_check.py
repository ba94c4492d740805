#!/usr/bin/env python3
"""Golden tests for `pave check`.

Every `.pave` file under tests/check/ (or every directory there whose name ends in `.dir`,
checked as one repository) carries its expected diagnostics inline:

    allow r on CloudRole when request.colour == "red"; //! unknown-attribute

`//! code [code …]` expects each code to start on that line; `//!@N code` on line N.
A `//! code: text` form also requires the message to contain `text`; a line may carry
several markers (`//! code: text //! code: text`). All error, warning and info diagnostics
reported must be expected, and every expected one must be reported.

    run_check.py --pave build/pave [--update] [--coverage] [paths…]

--update rewrites the markers from what `pave check` reports, one `//! code: message` per
diagnostic, so the goldens pin the rendered messages too (review with git diff).
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


def markers(line):
    """The `//!` markers of one line: (at line or None, body) each, in order."""
    pos = line.find("//!")
    if pos < 0:
        return []
    out = []
    for part in line[pos:].rstrip("\n").split("//!")[1:]:
        m = MARK.match("//!" + part)
        out.append((int(m.group(2)) if m.group(2) else None, m.group(3).strip()))
    return out


def parse_body(body):
    """`code [code …][: text]` as (codes, text)."""
    if ":" in body:
        codes, text = body.split(":", 1)
        return codes.split(), text.strip()
    return body.split(), ""


def expectations(case):
    exp = []  # (file, line, code, text)
    for path in sources(case):
        with open(path, encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                for at, body in markers(line):
                    codes, text = parse_body(body)
                    for c in codes:
                        exp.append((os.path.normpath(path), at or n, c, text))
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
    left = [(os.path.normpath(d["file"]), d["line"], d["code"], d["message"]) for d in diags]

    def take(f, line, code, text):
        hit = next((g for g in left if g[:3] == (f, line, code) and text in g[3]), None)
        if hit:
            left.remove(hit)
        return hit

    for path in sources(case):
        f = os.path.normpath(path)
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().split("\n")
        # `//!@N` markers stay (their line holds no code to mark); their text becomes the
        # whole message. The others are rewritten from the diagnostics, one marker each.
        kept = {}
        for n, line in enumerate(lines, 1):
            for at, body in markers(line):
                if at is None:
                    continue
                codes, text = parse_body(body)
                msgs = [take(f, at, c, text) for c in codes]
                if len(codes) == 1 and msgs[0]:
                    kept.setdefault(n, []).append(f"//!@{at} {codes[0]}: {msgs[0][3]}")
                else:
                    kept.setdefault(n, []).append(f"//!@{at} {body}")
        marks = {}
        for g in sorted(left):
            if g[0] == f:
                marks.setdefault(g[1], []).append(f"//! {g[2]}: {g[3]}")
        out = []
        for n, line in enumerate(lines, 1):
            pos = line.find("//!")
            if pos >= 0:
                line = line[:pos].rstrip()
            new = kept.get(n, []) + marks.get(n, [])
            if new:
                line = (line + " " if line.strip() else line) + " ".join(new)
            out.append(line)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("\n".join(out))


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
