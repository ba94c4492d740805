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


# Tables (SPEC §2.3): the same policy over two versions of its data, or a policy change
# over the same data. Data is `{key: row}`; `big` pads the table past the exact-encoding
# limit (256 rows) with rows no rule can use, so that the shared abstract content is used.
TABLE_SCHEMA = """namespace acme;
enum Env { dev, staging, prod }
principal Human { email: String, team: String }
record Account { owner: String, env: Env, admins: Set<String>, frozen: Bool? }
table accounts: Map<String, Account> from "data/accounts.json";
request CloudRole for Human { account: String, role: String }
"""
TABLE_RULES = """allow own on CloudRole
  when request.account in accounts and accounts[request.account].owner == principal.team
   and not (has(accounts[request.account].frozen) and accounts[request.account].frozen);
deny prod_admin on CloudRole
  when request.account in accounts and accounts[request.account].env == Env.prod and request.role == "admin";
"""
ACCOUNTS = {
    "111": {"owner": "team-a", "env": "prod", "admins": ["a@x"]},
    "222": {"owner": "team-b", "env": "dev", "admins": [], "frozen": True},
    "333": {"owner": "team-c", "env": "staging", "admins": ["c@x"]},
}


def changed(data, key, **attrs):
    d = json.loads(json.dumps(data))
    if attrs.get("remove"):
        del d[key]
    else:
        d.setdefault(key, {"owner": "", "env": "dev", "admins": []}).update(attrs)
    return d


def big(data, n=400):
    d = json.loads(json.dumps(data))
    for i in range(n):
        d["pad-%04d" % i] = {"owner": "pad-team-%d" % (i % 9), "env": ["dev", "staging", "prod"][i % 3],
                             "admins": ["p%d@x" % i], "frozen": i % 2 == 0}
    return d


# name: (old rules, old data, new rules, new data, expected, key the witness must use or None)
TABLE_SCENARIOS = {
    "data-identical": (TABLE_RULES, ACCOUNTS, TABLE_RULES, ACCOUNTS, [], None),
    "data-owner-change": (TABLE_RULES, ACCOUNTS, TABLE_RULES, changed(ACCOUNTS, "333", owner="team-b"),
                          [("decision", "deny", "allow"), ("decision", "allow", "deny")], "333"),
    "data-unfrozen": (TABLE_RULES, ACCOUNTS, TABLE_RULES, changed(ACCOUNTS, "222", frozen=False),
                      [("decision", "deny", "allow")], "222"),
    "data-added-row": (TABLE_RULES, ACCOUNTS, TABLE_RULES, changed(ACCOUNTS, "444", owner="team-d"),
                       [("decision", "deny", "allow")], "444"),
    "data-removed-row": (TABLE_RULES, ACCOUNTS, TABLE_RULES, changed(ACCOUNTS, "111", remove=True),
                         [("decision", "allow", "deny")], "111"),
    "data-env-to-prod": (TABLE_RULES, ACCOUNTS, TABLE_RULES, changed(ACCOUNTS, "333", env="prod"),
                         [("decision", "allow", "deny")], "333"),
    "big-data-identical": (TABLE_RULES, big(ACCOUNTS), TABLE_RULES, big(ACCOUNTS), [], None),
    "big-data-owner-change": (TABLE_RULES, big(ACCOUNTS), TABLE_RULES, big(changed(ACCOUNTS, "333", owner="team-b")),
                              [("decision", "deny", "allow"), ("decision", "allow", "deny")], "333"),
    "big-data-added-row": (TABLE_RULES, big(ACCOUNTS), TABLE_RULES, big(changed(ACCOUNTS, "444", owner="team-d")),
                           [("decision", "deny", "allow")], "444"),
    "policy-change-same-data": (TABLE_RULES, ACCOUNTS, TABLE_RULES.replace('request.role == "admin"', "true"),
                                ACCOUNTS, [("decision", "allow", "deny")], "111"),
}


def run(cmd, stdin=None):
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=120)


def write(dir_, rules, data=None):
    os.makedirs(dir_, exist_ok=True)
    with open(os.path.join(dir_, "policy.pave"), "w") as f:
        f.write((SCHEMA if data is None else TABLE_SCHEMA) + rules)
    if data is not None:
        with open(os.path.join(dir_, "pave.toml"), "w") as f:
            f.write('[bundle]\nname = "diff"\n')
        os.makedirs(os.path.join(dir_, "data"), exist_ok=True)
        with open(os.path.join(dir_, "data", "accounts.json"), "w") as f:
            json.dump(data, f)


def decide(pave, bundle, inp):
    p = run([pave, "eval", bundle, "-"], json.dumps(inp) + "\n")
    return json.loads(p.stdout.strip().splitlines()[0])


def check(pave, tmp, name, old, new, expected, old_data=None, new_data=None, key=None):
    problems = []
    o, n = os.path.join(tmp, name, "old"), os.path.join(tmp, name, "new")
    write(o, old, old_data)
    write(n, new, new_data)
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
    if res.get("inconclusive"):
        problems.append(f"inconclusive: {res['inconclusive']}")
    for c in res["changes"]:
        if key is not None and c["witness"]["request"]["account"] != key:
            problems.append(f"witness of {c['kind']} {c.get('from')} -> {c.get('to')} uses account "
                            f"{c['witness']['request']['account']!r}, expected the changed row {key!r}")
    if old_data is not None and old_data != new_data and not res.get("data_changed"):
        problems.append("the data change is not listed in data_changed")
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
        cases = [(name, (old, new, expected), {}) for name, (old, new, expected) in SCENARIOS.items()]
        cases += [(name, (old, new, expected), {"old_data": od, "new_data": nd, "key": key})
                  for name, (old, od, new, nd, expected, key) in TABLE_SCENARIOS.items()]
        for name, (old, new, expected), extra in cases:
            problems = check(a.pave, tmp, name, old, new, expected, **extra)
            if problems:
                failed += 1
                print(f"FAIL {name}")
                for p in problems:
                    print(f"  {p}")
    print(f"{len(cases) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
