#!/usr/bin/env python3
"""Throughput of `pave eval BUNDLE -` on JSON Lines, one process, on the generated
1,000-rule repository: decisions per second of elapsed time with the default threads (one
per CPU), and with `--jobs 1`; also per second of CPU time (the cost of a decision, all
threads added up).

    eval_throughput.py --pave build/pave [--baseline OLD/pave] [--decisions 1000000]

Generates the repository and its inputs with the shared generator
(`../shared/peers/gen_corpus.py`, or `$PAVE_SHARED/peers/gen_corpus.py`, or
`--generator`), builds the bundle with `--pave`, and feeds one stream of `--decisions`
lines to `pave eval` (the generator's inputs repeated, plus a line that is not JSON, a
blank line, a CRLF line and a last line without a newline). Checks that every non-blank
line gets exactly one decision line. With `--baseline` (another build of `pave`, e.g. the
commit before a change), runs both in alternation, compares their outputs byte for byte
and prints the ratio. Goal (issue "First use", item 9): 1,000,000 decisions/s.
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

NOW = "2026-11-27T00:00:00Z"
GOAL = 1_000_000


def generator_path(arg):
    if arg:
        return arg
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = []
    if os.environ.get("PAVE_SHARED"):
        candidates.append(os.path.join(os.environ["PAVE_SHARED"], "peers", "gen_corpus.py"))
    candidates.append(os.path.join(here, "..", "..", "shared", "peers", "gen_corpus.py"))
    for c in candidates:
        if os.path.isfile(c):
            return os.path.normpath(c)
    sys.exit("eval_throughput.py: no gen_corpus.py found (set PAVE_SHARED or pass --generator)")


def make_stream(inputs, n, path):
    with open(inputs, "rb") as f:
        lines = [l.rstrip(b"\r\n") for l in f if l.strip()]
    special = [b"{this is not json", b"   ", lines[0] + b"\r"]
    out = []
    i = 0
    while len(out) < n - 1 - (len(special) - 1):  # the blank line yields no decision
        out.append(lines[i % len(lines)])
        i += 1
    middle = len(out) // 2
    out[middle:middle] = special
    with open(path, "wb") as f:
        f.write(b"\n".join(out))
        f.write(b"\n" + lines[1])  # the last line has no newline
    return sum(1 for l in out if l.strip()) + 1


def run(pave, bundle, stream, out, extra=()):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(stream, "rb") as fin, open(out, "wb") as fout:
        p = subprocess.run([pave, "eval", bundle, "-", *extra], stdin=fin, stdout=fout, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"eval_throughput.py: {pave} eval exited {p.returncode}: {p.stderr.decode()[:400]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pave", required=True)
    ap.add_argument("--baseline", help="another pave binary to compare with (same run, same stream)")
    ap.add_argument("--decisions", type=int, default=1_000_000)
    ap.add_argument("--rules", type=int, default=1000)
    ap.add_argument("--types", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--generator")
    ap.add_argument("--workdir", help="keep the generated files here (default: a temporary directory)")
    args = ap.parse_args()

    work = args.workdir or tempfile.mkdtemp(prefix="pave-eval-bench-")
    repo = os.path.join(work, "repo")
    gen = generator_path(args.generator)
    subprocess.run([sys.executable, gen, repo, "--rules", str(args.rules), "--types", str(args.types),
                    "--inputs", "10000"], check=True, stdout=subprocess.DEVNULL)
    bundle = os.path.join(work, "bundle.pvb")
    inputs = os.path.join(repo, "inputs.jsonl")
    os.rename(inputs, os.path.join(work, "inputs.jsonl"))  # not a source of the repository
    inputs = os.path.join(work, "inputs.jsonl")
    subprocess.run([args.pave, "build", repo, "--no-analyze", "--now", NOW, "-o", bundle], check=True,
                   stderr=subprocess.DEVNULL)
    stream = os.path.join(work, "stream.jsonl")
    expected_lines = make_stream(inputs, args.decisions, stream)

    binaries = [("pave", args.pave, ()), ("pave -j1", args.pave, ("--jobs", "1"))]
    if args.baseline:
        binaries.append(("baseline", args.baseline, ()))
    best = {}
    outputs = {}
    for _ in range(args.repeat):
        for name, binary, extra in binaries:  # alternate, so all see the same machine
            out = os.path.join(work, f"out-{name.replace(' ', '')}.jsonl")
            cpu, wall = run(binary, bundle, stream, out, extra)
            outputs[name] = out
            if name not in best:
                best[name] = (cpu, wall)
            best[name] = (min(cpu, best[name][0]), min(wall, best[name][1]))

    ok = True
    with open(outputs["pave"], "rb") as f:
        got = f.read()
    lines = got.count(b"\n")
    if lines != expected_lines or not got.endswith(b"\n"):
        print(f"FAIL: {lines} decision lines for {expected_lines} non-blank input lines")
        ok = False
    if b'"malformed-json"' not in got:
        print("FAIL: the line that is not JSON got no malformed-json decision")
        ok = False
    for other in [b[0] for b in binaries[1:]]:
        with open(outputs[other], "rb") as f:
            if f.read() != got:
                print(f"FAIL: the output differs from {other}'s")
                ok = False
            else:
                print(f"output: identical to {other}'s, byte for byte")

    print(f"{args.rules}-rule repository, {expected_lines} decisions per run, best of {args.repeat}; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"  {'':9} {'elapsed':>9} {'decisions/s':>13}   {'CPU':>9} {'decisions/CPU-s':>16}")
    for name, _, _ in binaries:
        cpu, wall = best[name]
        print(f"  {name:9} {wall:7.3f} s {expected_lines / wall:13,.0f}   {cpu:7.3f} s {expected_lines / cpu:16,.0f}")
    rate = expected_lines / best["pave"][1]
    print(f"  threads: {best['pave -j1'][1] / best['pave'][1]:.2f}x the elapsed rate of one")
    if args.baseline:
        print(f"  speed-up over the baseline (elapsed): {best['baseline'][1] / best['pave'][1]:.2f}x")
    print(f"goal >= {GOAL:,} decisions/s (elapsed, default threads): {'met' if rate >= GOAL else 'NOT met'} "
          f"({rate:,.0f})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
