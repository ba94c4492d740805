#!/usr/bin/env python3
"""Times the analyzer on generated repositories (bench/gen_repo.py) of growing size.

    bench/analysis_bench.py [--pave build/pave] [--sizes 100,1000,5000]

For each size: the wall time of `pave check` with an empty cache, the analyzer's own
figures (`--verbose`: queries, median and p99 query time), and the wall time of a second,
cached re-check. Goals (issue #4): 1,000 rules under 10 s, median query under 10 ms,
cached re-check under 1 s. A benchmark, not a test: it asserts nothing.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def check(pave, repo, cache):
    env = dict(os.environ, PAVE_CACHE_DIR=cache)
    start = time.monotonic()
    p = subprocess.run([pave, "check", repo, "--now", "2026-11-27", "--verbose", "--format", "json"],
                       capture_output=True, text=True, env=env)
    wall = time.monotonic() - start
    m = re.search(r"(\d+) queries \((\d+) cached, (\d+) solved\), query median ([\d.]+) ms, p99 ([\d.]+) ms", p.stderr)
    return wall, m.groups() if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pave", default=os.path.join(HERE, "..", "build", "pave"))
    ap.add_argument("--sizes", default="100,1000,5000")
    ap.add_argument("--types", type=int, default=20)
    a = ap.parse_args()
    print(f"{'rules':>6} {'seconds':>8} {'queries':>8} {'median-ms':>10} {'p99-ms':>8} {'cached-s':>9} {'ratio':>6}")
    base = None
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in a.sizes.split(",")):
            repo, cache = os.path.join(tmp, f"r{n}"), os.path.join(tmp, f"cache{n}")
            subprocess.run([sys.executable, os.path.join(HERE, "gen_repo.py"), repo, "--rules", str(n),
                            "--types", str(a.types)], check=True, capture_output=True)
            wall, stats = check(a.pave, repo, cache)
            cached, _ = check(a.pave, repo, cache)
            base = base or wall
            q, _, _, med, p99 = stats or ("?",) * 5
            print(f"{n:>6} {wall:>8.2f} {q:>8} {med:>10} {p99:>8} {cached:>9.2f} {wall / base:>5.1f}x")


if __name__ == "__main__":
    main()
