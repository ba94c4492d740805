#!/usr/bin/env python3
"""Tests for `pave diff`: each scenario is an old and a new policy; the expected changes
must be reported, and every witness must be decided differently by the two bundles
(checked with `pave build` and `pave eval`, not by trusting the analyzer).

    run.py --pave build/pave
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

SCHEMA = """namespace acme;
enum Env { dev, staging, prod }
principal Human { email: String, groups: Set<String>, on_call: Bool }
principal Agent { model: String, operator: String }
context { break_glass: Bool }
request CloudRole for Human, Agent {
  role: String,
  env: Env,
  duration: Duration,
  grant max_ttl: Duration = 1h merge min,
}
"""
BASE = """allow nonprod on CloudRole when request.env != Env.prod;
deny admin on CloudRole when request.role == "admin";
"""

# name: (old rules, new rules, expected (kind, from, to) or grant name; None: no change)
SCENARIOS = {
    "identical": (BASE, BASE, []),
    "reordered": (BASE, "\n".join(reversed(BASE.strip().split("\n"))) + "\n", []),
    "widened-allow": (BASE, BASE.replace("request.env != Env.prod", "true"), [("decision", "deny", "allow")]),
    "new-deny": (BASE, BASE + 'deny agents on CloudRole when principal is Agent;\n', [("decision", "allow", "deny")]),
    "changed-grant": (BASE, BASE.replace("!= Env.prod;", "!= Env.prod grant max_ttl = 15m;"),
                      [("grant", "max_ttl")]),
    "added-exception": (BASE, BASE + 'exception ops lifts admin when principal is Human and principal.on_call '
                        'until 2027-01-01 owner "sre";\n', [("decision", "deny", "allow")]),
    "new-approval": (BASE, BASE + 'approve prod on CloudRole by "sre" when request.env == Env.prod;\n',
                     [("decision", "deny", "approval")]),
}


def run(cmd, stdin=None):
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=120)


def write(dir_, rules):
    os.makedirs(dir_, exist_ok=True)
    with open(os.path.join(dir_, "policy.pave"), "w") as f:
        f.write(SCHEMA + rules)


def decide(pave, bundle, inp):
    p = run([pave, "eval", bundle, "-"], json.dumps(inp) + "\n")
    return json.loads(p.stdout.strip().splitlines()[0])


def check(pave, tmp, name, old, new, expected):
    problems = []
    o, n = os.path.join(tmp, name, "old"), os.path.join(tmp, name, "new")
    write(o, old)
    write(n, new)
    p = run([pave, "diff", o, n, "--format", "json"])
    if p.returncode not in (0, 1):
        return [f"pave diff exited {p.returncode}: {p.stderr.strip()[:300]}"]
    res = json.loads(p.stdout)
    if (p.returncode == 1) != bool(expected) or res["changed"] != bool(expected):
        problems.append(f"exit {p.returncode}, changed={res['changed']}, expected changes: {expected}")
    got = {(c["kind"], c["from"], c["to"]) if c["kind"] == "decision" else (c["kind"], c["grant"]) for c in res["changes"]}
    for e in expected:
        if e not in got:
            problems.append(f"missing change {e}; got {sorted(got)}")
    if not expected and res["changes"]:
        problems.append(f"unexpected changes {sorted(got)}")
    if res["changes"]:
        bo, bn = os.path.join(tmp, name, "old.pvb"), os.path.join(tmp, name, "new.pvb")
        for src, out in ((o, bo), (n, bn)):
            b = run([pave, "build", src, "-o", out, "--now", "2026-11-27", "--no-analyze"])
            if b.returncode != 0:
                return problems + [f"pave build {src} failed: {b.stderr.strip()[:300]}"]
        for c in res["changes"]:
            x, y = decide(pave, bo, c["witness"]), decide(pave, bn, c["witness"])
            if c["kind"] == "decision":
                if (x["decision"], y["decision"]) != (c["from"], c["to"]):
                    problems.append(f"witness of {c['from']} -> {c['to']} decides {x['decision']} -> {y['decision']}")
            elif x["grants"].get(c["grant"]) == y["grants"].get(c["grant"]):
                problems.append(f"witness of grant {c['grant']} gives the same value {x['grants'].get(c['grant'])}")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pave", required=True)
    a = ap.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, (old, new, expected) in SCENARIOS.items():
            problems = check(a.pave, tmp, name, old, new, expected)
            if problems:
                failed += 1
                print(f"FAIL {name}")
                for p in problems:
                    print(f"  {p}")
    print(f"{len(SCENARIOS) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
