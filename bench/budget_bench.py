#!/usr/bin/env python3
"""Times the analyzer on the two repositories of the hardening issue (items 4 and 5).

    bench/budget_bench.py [--pave build/pave] [--rules 1000,3000] [--literals 30,100]

* Many small rules: N files, each holding one `allow rI on R when request.x == I;`.
  Goal: 3,000 files in at most 5 s; the ratio to 1,000 files shows how time grows
  (about 3x for linear growth).
* One long literal: one rule comparing a String attribute with a K KB literal. Goal: the
  per-query budget (`--budget-ms`, 2,000 ms by default) plus 1 s; the query is reported
  `analysis-inconclusive` or decided, never left running.

Each run is `pave check DIR --verbose` with the cache off (`PAVE_NO_CACHE=1`), analysis on.
A benchmark, not a test: it prints times and the analyzer's own figures, asserts nothing.
"""
import argparse
import os
import re
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

SCHEMA = """namespace b;

principal P { name: String }

request R for P { x: Int, s: String }
"""


def many_rules(root, n):
    os.makedirs(root)
    with open(os.path.join(root, "schema.pave"), "w") as f:
        f.write(SCHEMA)
    for i in range(n):
        with open(os.path.join(root, f"r{i}.pave"), "w") as f:
            f.write(f"namespace b;\n\nallow r{i} on R when request.x == {i};\n")


def long_literal(root, kb):
    os.makedirs(root)
    lit = ("abcdefghijklmnopqrstuvwxyz0123456789" * (kb * 1024 // 36 + 1))[: kb * 1024]
    with open(os.path.join(root, "policy.pave"), "w") as f:
        f.write(SCHEMA + f'\nallow long on R when request.s == "{lit}";\n')


def check(pave, repo, timeout):
    env = dict(os.environ, PAVE_NO_CACHE="1")
    start = time.monotonic()
    try:
        p = subprocess.run([pave, "check", repo, "--now", "2026-11-27", "--verbose", "--format", "json"],
                           capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"killed after {timeout} s"
    wall = time.monotonic() - start
    m = re.search(r"analysis: .*", p.stderr)
    codes = sorted(set(re.findall(r'"code":\s*"([a-z-]+)"', p.stdout)))
    return wall, (m.group(0) if m else p.stderr.strip()[-200:]) + f"; codes: {', '.join(codes) or 'none'}"


def timed_checks(pave, tmp, name, sizes, make, timeout):
    """For each size n of the comma-separated `sizes`: a repository made by make(repo, n) in
    tmp/<name><n>, checked; yields (n, wall seconds or None, info)."""
    for n in (int(x) for x in sizes.split(",") if x):
        repo = os.path.join(tmp, f"{name}{n}")
        make(repo, n)
        wall, info = check(pave, repo, timeout)
        yield n, wall, info


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pave", default=os.path.join(HERE, "..", "build", "pave"))
    ap.add_argument("--rules", default="1000,3000")
    ap.add_argument("--literals", default="30,100")
    ap.add_argument("--budget-ms", type=int, default=2000)
    ap.add_argument("--timeout", type=int, default=180, help="kill a run after this many seconds")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = None
        for n, wall, info in timed_checks(a.pave, tmp, "rules", a.rules, many_rules, a.timeout):
            if wall is None:
                print(f"{n:>6} one-rule files: {info}")
                continue
            base = base or (wall, n)
            goal = "  (goal <= 5 s: " + ("met" if wall <= 5 else "NOT met") + ")" if n == 3000 else ""
            print(f"{n:>6} one-rule files: {wall:7.2f} s, {wall / base[0]:.1f}x the {base[1]}-file run "
                  f"({n / base[1]:.0f}x the files){goal}\n         {info}")
        limit = a.budget_ms / 1000 + 1
        for kb, wall, info in timed_checks(a.pave, tmp, "lit", a.literals, long_literal, a.timeout):
            if wall is None:
                print(f"{kb:>6} KB literal: {info}  (goal <= {limit:.0f} s: NOT met)")
                continue
            print(f"{kb:>6} KB literal: {wall:7.2f} s  (goal <= {limit:.0f} s: {'met' if wall <= limit else 'NOT met'})"
                  f"\n         {info}")


if __name__ == "__main__":
    main()
