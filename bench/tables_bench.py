#!/usr/bin/env python3
"""Tables at scale (issue 28's goals; a benchmark, not a test): a 1,000,000-row table
(~100 MB of JSON) built into a bundle, the bundle loaded, and a pre-bound decision with two
lookups next to the same decision with two constant comparisons instead, in one run.

    bench/tables_bench.py --build build [--rows 1000000] [--format json|jsonl] [--keep DIR]

Needs `pave` and `pave_bench_tables` in the build directory (configure with -DPAVE_BENCH=ON).
Prints: build time (with and without the analyzer), bundle size and bytes per row, load
time, ns per decision with and without lookups, and their difference against the goals
(build <= 10 s, load <= 200 ms, lookups within 100 ns)."""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

WITH = '''namespace bench;
principal Human { team: String }
request Role for Human { account: String }
enum Env { dev, staging, prod }
record Account { owner: String, env: Env, admins: Set<String>, frozen: Bool? }
table accounts: Map<String, Account> from "data/accounts.{ext}";
allow own on Role
  when request.account in accounts and accounts[request.account].owner == principal.team;
'''
WITHOUT = '''namespace bench;
principal Human { team: String }
request Role for Human { account: String }
allow own on Role when request.account == "acct" and principal.team == "team";
'''


def write_data(path, rows, fmt, rng):
    envs = ["dev", "staging", "prod"]
    keys = []
    with open(path, "w") as f:
        if fmt == "json":
            f.write("{\n")
        for i in range(rows):
            key = f"{100000000000 + i * 7919 % 900000000000:012d}"
            owner = f"team-{i % 1000}"
            row = {"owner": owner, "env": envs[i % 3], "admins": [f"a{i % 97}@acme.io", f"b{i % 89}@acme.io"]}
            if i % 5 == 0:
                row["frozen"] = i % 10 == 0
            if fmt == "json":
                f.write(json.dumps(key) + ": " + json.dumps(row, separators=(",", ":")) + (",\n" if i + 1 < rows else "\n"))
            else:
                row = {"key": key, **row}
                f.write(json.dumps(row, separators=(",", ":")) + "\n")
            if i % max(1, rows // 10000) == 0:
                keys.append((key, owner))
        if fmt == "json":
            f.write("}\n")
    rng.shuffle(keys)
    return keys


def timed(cmd):
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr[-2000:]}")
    return dt, p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--format", choices=["json", "jsonl"], default="json")
    ap.add_argument("--keep", help="leave the generated repositories in this folder")
    a = ap.parse_args()
    pave = os.path.abspath(os.path.join(a.build, "pave"))
    bench = os.path.abspath(os.path.join(a.build, "bench", "pave_bench_tables"))
    for exe in (pave, bench):
        if not os.path.exists(exe):
            sys.exit(f"missing {exe} (configure with -DPAVE_BENCH=ON and build)")
    tmp = a.keep or tempfile.mkdtemp(prefix="pave-tables-")
    os.makedirs(tmp, exist_ok=True)
    try:
        rng = random.Random(7)
        with_dir, without_dir = os.path.join(tmp, "with"), os.path.join(tmp, "without")
        os.makedirs(os.path.join(with_dir, "data"), exist_ok=True)
        os.makedirs(without_dir, exist_ok=True)
        for d in (with_dir, without_dir):
            open(os.path.join(d, "pave.toml"), "w").write('[bundle]\nname = "tables-bench"\n')
        open(os.path.join(with_dir, "policy.pave"), "w").write(WITH.replace("{ext}", a.format))
        open(os.path.join(without_dir, "policy.pave"), "w").write(WITHOUT)
        data = os.path.join(with_dir, "data", "accounts." + a.format)
        keys = write_data(data, a.rows, a.format, rng)
        size_mb = os.path.getsize(data) / 1e6
        keys_file = os.path.join(tmp, "keys.txt")
        with open(keys_file, "w") as f:
            f.writelines(f"{k} {o}\n" for k, o in keys)
        hot_file = os.path.join(tmp, "hot.txt")
        with open(hot_file, "w") as f:
            f.writelines(f"{k} {o}\n" for k, o in keys[:16])
        with_pvb, without_pvb = os.path.join(tmp, "with.pvb"), os.path.join(tmp, "without.pvb")
        t_noan, _ = timed([pave, "build", with_dir, "--no-analyze", "-o", with_pvb])
        t_full, _ = timed([pave, "build", with_dir, "-o", with_pvb])
        timed([pave, "build", without_dir, "--no-analyze", "-o", without_pvb])
        _, info = timed([pave, "inspect", with_pvb])
        m = re.search(r"tables:\s+\d+, (\d+) rows in (\d+) bytes", info)
        bundle_bytes = os.path.getsize(with_pvb)
        print(f"table: {a.rows:,} rows, {size_mb:.1f} MB of {a.format}")
        print(f"pave build --no-analyze: {t_noan:.2f} s (goal: <= 10 s)")
        print(f"pave build (with the analyzer): {t_full:.2f} s")
        print(f"bundle: {bundle_bytes:,} bytes; data section {int(m.group(2)):,} bytes, "
              f"{int(m.group(2)) / max(1, int(m.group(1))):.1f} bytes per row; whole bundle "
              f"{bundle_bytes / a.rows:.1f} bytes per row")
        # Decisions cycling through 16 accounts (the table's lines stay in cache: the cost of
        # the lookups themselves), then through 10,000 (each lookup mostly misses the caches:
        # the cost of the memory it reads).
        for label, f in (("16 accounts", hot_file), (f"{len(keys):,} accounts", keys_file)):
            p = subprocess.run([bench, with_pvb, without_pvb, f], capture_output=True, text=True)
            print(f"-- decisions over {label}")
            sys.stdout.write(p.stdout)
            if p.returncode != 0:
                sys.exit(p.stderr)
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
