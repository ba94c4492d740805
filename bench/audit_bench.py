#!/usr/bin/env python3
"""Throughput of `pave audit` on the generated 1,000-rule repository.

    audit_bench.py --pave build/pave [--records 1000000] [--generator gen_corpus.py]

Generates the repository and its inputs with the shared generator
(`../shared/peers/gen_corpus.py`, or `$PAVE_SHARED/peers/gen_corpus.py`), builds the
bundle, decides the inputs once with `pave eval` and writes a decision log of `--records`
SPEC §10.1 records (the decisions repeated with fresh ids). Then times, in CPU seconds of
the child process, with its peak resident memory:
- `pave audit exceptions` over the whole log (goal: ≤ 5 s for 1,000,000 records), and over
  half of it (memory must not grow with the log);
- `pave audit recheck` with the same bundle (goal: ≥ 300,000 records/s);
- the baseline of the same run: `pave eval` over the logged inputs alone (JSON Lines), the
  cost of the decisions recheck makes, so the ratio shows what reading the log adds.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile

NOW = "2026-12-05T00:00:00Z"


def generator_path(arg):
    if arg:
        return arg
    here = os.path.dirname(os.path.abspath(__file__))
    cands = [os.path.join(os.environ["PAVE_SHARED"], "peers", "gen_corpus.py")] if os.environ.get("PAVE_SHARED") else []
    cands.append(os.path.join(here, "..", "..", "shared", "peers", "gen_corpus.py"))
    for c in cands:
        if os.path.isfile(c):
            return os.path.normpath(c)
    sys.exit("audit_bench.py: no gen_corpus.py found (set PAVE_SHARED or pass --generator)")


def timed(cmd, stdin=None, stdout=subprocess.DEVNULL):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as f:
        p = subprocess.run(cmd, stdin=f, stdout=stdout, stderr=subprocess.PIPE)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return p.returncode, cpu, after.ru_maxrss, p.stderr.decode()


def peak_rss(cmd):
    """Peak RSS of one command, measured with a fresh process tree (/usr/bin/time -f %M)."""
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return int(p.stderr.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pave", required=True)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--generator")
    a = ap.parse_args()
    pave = os.path.abspath(a.pave)
    with tempfile.TemporaryDirectory(prefix="pave-audit-bench-") as tmp:
        repo = os.path.join(tmp, "repo")
        subprocess.run([sys.executable, generator_path(a.generator), repo, "--rules", "1000", "--inputs", "1000"], check=True)
        bundle = os.path.join(tmp, "b.pvb")
        subprocess.run([pave, "build", repo, "-o", bundle, "--no-analyze"], check=True, capture_output=True)
        inputs = [l for l in open(os.path.join(repo, "inputs.jsonl")) if l.strip()]
        decisions = subprocess.run([pave, "eval", bundle, "-"], input="".join(inputs), capture_output=True, text=True,
                                   check=True).stdout.splitlines()
        # The log: records in the §10.1 member order, ids and times advancing.
        log = os.path.join(tmp, "log.jsonl")
        half = os.path.join(tmp, "half.jsonl")
        plain = os.path.join(tmp, "inputs.jsonl")
        base_ms = 1796000000000
        with open(log, "w") as f, open(half, "w") as h, open(plain, "w") as p:
            for n in range(a.records):
                i = n % len(inputs)
                ms = base_ms + n
                line = (f'{{"log_version":1,"id":"{ms:012x}-7000-8000-{n:012x}","time":"2026-12-01T00:00:00.{n % 1000:03d}Z",'
                        f'"source":"serve","client":"portal-1","input":{inputs[i].strip()},"decision":{decisions[i]},'
                        f'"eval_ns":612}}\n')
                f.write(line)
                if n < a.records // 2:
                    h.write(line)
                p.write(inputs[i])
        size = os.path.getsize(log)
        lifted = sum(1 for d in decisions if json.loads(d)["exceptions"]) * a.records // len(decisions)
        print(f"log: {a.records} records, {size / 1e6:.0f} MB, about {lifted} lifted by an exception")

        rc, cpu_ex, _, err = timed([pave, "audit", "exceptions", "--bundle", bundle, log, "--now", NOW])
        assert rc in (0, 1), err
        print(f"audit exceptions: {cpu_ex:.2f} s CPU for {a.records} records ({a.records / cpu_ex:,.0f} records/s; goal ≤ 5 s per 1,000,000)")
        rss_full = peak_rss([pave, "audit", "exceptions", "--bundle", bundle, log, "--now", NOW])
        rss_half = peak_rss([pave, "audit", "exceptions", "--bundle", bundle, half, "--now", NOW])
        print(f"audit exceptions peak RSS: {rss_full / 1024:.1f} MiB for the log, {rss_half / 1024:.1f} MiB for half of it "
              f"(ratio {rss_full / rss_half:.2f}; independent of the log's size when ≈ 1)")

        rc, cpu_re, _, err = timed([pave, "audit", "recheck", "--bundle", bundle, log, "--now", NOW])
        assert rc in (0, 1), err
        granted = sum(1 for d in decisions if json.loads(d)["decision"] != "deny") * a.records // len(decisions)
        print(f"audit recheck: {cpu_re:.2f} s CPU, {a.records / cpu_re:,.0f} records/s read "
              f"({granted / cpu_re:,.0f} grants/s re-decided; goal ≥ 300,000 records/s)")
        rc, cpu_ev, _, err = timed([pave, "eval", bundle, "-"], stdin=plain)
        assert rc == 0, err
        print(f"baseline pave eval over the same inputs: {cpu_ev:.2f} s CPU, {a.records / cpu_ev:,.0f} decisions/s; "
              f"recheck / eval time: {cpu_re / cpu_ev:.2f}")


if __name__ == "__main__":
    main()
