#!/usr/bin/env python3
"""Tables (SPEC §2.3) end to end: lookups, guards, missing keys and optional row
attributes decided by the VM; data files that do not fit their record rejected with
`invalid-data` naming file, line and JSON path; the bundle's data digest in metadata and
in every decision; deterministic bundles whatever the row order of the data file.
Usage: tables.py --pave build/pave"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import finish_failures, parse_pave_args  # noqa: E402

POLICY = '''namespace acme;

enum Env { dev, staging, prod }
principal Human { email: String, team: String }

record Account { owner: String, env: Env, admins: Set<String>, frozen: Bool?, limit: Duration? }
table accounts: Map<String, Account> from "data/accounts.json";

record Team { leads: Set<String> }
table teams: Map<String, Team> from "data/teams.jsonl";

request CloudRole for Human { account: String, duration: Duration }

/// A team uses its own accounts, unless frozen, within the account's limit.
allow own_account on CloudRole
  when request.account in accounts
   and accounts[request.account].owner == principal.team
   and not (has(accounts[request.account].frozen) and accounts[request.account].frozen)
   and (if has(accounts[request.account].limit) then request.duration <= accounts[request.account].limit else true);

/// Production accounts need a lead of the owning team.
approve prod_accounts on CloudRole
  by accounts[request.account].owner + "-leads"
  when request.account in accounts and accounts[request.account].env == Env.prod;

/// An admin of the account's owning team may use any account of that team.
allow team_lead on CloudRole
  when request.account in accounts
   and accounts[request.account].owner in teams
   and principal.email in teams[accounts[request.account].owner].leads
   and any a in accounts[request.account].admins: a == principal.email;

deny small_catalog on CloudRole when accounts.size() < 2 because "catalog not loaded";
'''

ACCOUNTS = {
    "111": {"owner": "team-a", "env": "dev", "admins": ["lead@a"]},
    "222": {"owner": "team-b", "env": "prod", "admins": [], "frozen": False},
    "333": {"owner": "team-a", "env": "staging", "admins": ["x@a"], "frozen": True},
    "444": {"owner": "team-c", "env": "dev", "admins": [], "frozen": None, "limit": "1h"},
}
TEAMS = [
    {"key": "team-a", "leads": ["lead@a"]},
    {"key": "team-b", "leads": []},
]


def write_repo(d, accounts_text=None, teams_text=None, policy=POLICY):
    os.makedirs(os.path.join(d, "data"), exist_ok=True)
    with open(os.path.join(d, "pave.toml"), "w") as f:
        f.write('[bundle]\nname = "tables"\n')
    with open(os.path.join(d, "policy.pave"), "w") as f:
        f.write(policy)
    with open(os.path.join(d, "data", "accounts.json"), "w", encoding="utf-8", newline="") as f:
        f.write(accounts_text if accounts_text is not None else json.dumps(ACCOUNTS, indent=1))
    with open(os.path.join(d, "data", "teams.jsonl"), "w", encoding="utf-8", newline="") as f:
        f.write(teams_text if teams_text is not None else "\n".join(json.dumps(t) for t in TEAMS) + "\n")


def run(pave, *args, stdin=None):
    return subprocess.run([pave, *args], capture_output=True, text=True, input=stdin, timeout=120)


def main():
    pave = os.path.abspath(parse_pave_args().pave)
    failures = []
    checks = 0

    def check(cond, what):
        nonlocal checks
        checks += 1
        if not cond:
            failures.append(what)

    with tempfile.TemporaryDirectory() as tmp:
        repo = os.path.join(tmp, "repo")
        write_repo(repo)
        bundle = os.path.join(tmp, "t.pvb")
        p = run(pave, "build", repo, "-o", bundle, "--no-analyze")
        check(p.returncode == 0, f"build failed: {p.stderr}")

        def decide(email, team, account, duration="30m"):
            inp = {"type": "CloudRole", "principal": {"type": "Human", "email": email, "team": team},
                   "request": {"account": account, "duration": duration},
                   "context": {"time": "2026-12-01T10:00:00Z"}}
            p = run(pave, "eval", bundle, "-", stdin=json.dumps(inp) + "\n")
            check(p.returncode in (0, 1), f"eval failed: {p.stderr}")
            return json.loads(p.stdout.splitlines()[0])

        d = decide("dev@a", "team-a", "111")
        check(d["decision"] == "allow" and d["rules"] == ["acme.own_account"], f"own account: {d}")
        d = decide("dev@a", "team-a", "333")
        check(d["decision"] == "deny" and d["reasons"] == ["no-matching-rule"], f"frozen account: {d}")
        d = decide("dev@b", "team-b", "222")
        check(d["decision"] == "approval" and d["approvals"][0]["groups"] == ["team-b-leads"], f"prod account: {d}")
        d = decide("dev@a", "team-a", "999")
        check(d["decision"] == "deny" and d["errors"] == [] and d["reasons"] == ["no-matching-rule"],
              f"missing key is no match, not an error: {d}")
        d = decide("lead@a", "team-z", "111")
        check(d["decision"] == "allow" and d["rules"] == ["acme.team_lead"], f"nested lookup and quantifier: {d}")
        d = decide("dev@c", "team-c", "444", "30m")
        check(d["decision"] == "allow", f"optional limit respected: {d}")
        d = decide("dev@c", "team-c", "444", "2h")
        check(d["decision"] == "deny", f"optional limit exceeded: {d}")
        data_digest = d["bundle"].get("data_digest", "")
        check(data_digest.startswith("sha256:") and len(data_digest) == 71, f"decision names the data digest: {d}")

        p = run(pave, "inspect", bundle)
        check("format:    PAVB 1.2" in p.stdout, f"inspect format: {p.stdout[:200]}")
        check("data:      " + data_digest in p.stdout, "inspect shows the data digest")
        check("tables:    2, 6 rows in " in p.stdout, f"inspect shows tables: {p.stdout}")
        check("acme.accounts: Map<String, acme.Account>, 4 rows, 5 attributes" in p.stdout, "inspect: accounts")
        p = run(pave, "inspect", bundle, "--disasm")
        for op in ("LOAD_TABLE", "GET_FIELD", "HAS_FIELD", "IN_MAP", "MAP_GET"):
            check(op in p.stdout, f"disassembly shows {op}")
        p = run(pave, "verify", bundle)
        check(p.returncode == 0, f"verify: {p.stdout}{p.stderr}")

        # Same data in another order and layout: the same bundle, byte for byte.
        repo2 = os.path.join(tmp, "repo2")
        shuffled = dict(reversed(list(ACCOUNTS.items())))
        write_repo(repo2, accounts_text=json.dumps(shuffled))
        bundle2 = os.path.join(tmp, "t2.pvb")
        run(pave, "build", repo2, "-o", bundle2, "--no-analyze")
        check(open(bundle, "rb").read() == open(bundle2, "rb").read(), "row order of the data file changes the bundle")

        # A data change changes the data digest, and only data changes do.
        repo3 = os.path.join(tmp, "repo3")
        changed = dict(ACCOUNTS)
        changed["555"] = {"owner": "team-b", "env": "dev", "admins": []}
        write_repo(repo3, accounts_text=json.dumps(changed))
        bundle3 = os.path.join(tmp, "t3.pvb")
        run(pave, "build", repo3, "-o", bundle3, "--no-analyze")
        p = run(pave, "inspect", bundle3)
        check("data:      sha256:" in p.stdout and data_digest not in p.stdout, "new data, new data digest")
        repo4 = os.path.join(tmp, "repo4")
        write_repo(repo4, policy=POLICY.replace("catalog not loaded", "catalog empty"))
        bundle4 = os.path.join(tmp, "t4.pvb")
        run(pave, "build", repo4, "-o", bundle4, "--no-analyze")
        p = run(pave, "inspect", bundle4)
        check("data:      " + data_digest in p.stdout, "a policy change keeps the data digest")

        # Invalid data: file, line, JSON path; nothing built.
        bad_cases = [
            ("wrong type", '{\n "111": {"owner": 5, "env": "dev", "admins": []}\n}\n', None,
             "data/accounts.json", 2, '$["111"].owner: expected a String, found a number'),
            ("bad enum", '{"111": {"owner": "a", "env": "dev", "admins": []},\n"2": {"owner": "a", "env": "qa", "admins": []}}',
             None, "data/accounts.json", 2, '$["2"].env: "qa" is not a member of enum `acme.Env`'),
            ("duplicate key", '{"111": {"owner": "a", "env": "dev", "admins": []},\n"111": {"owner": "b", "env": "dev", "admins": []}}',
             None, "data/accounts.json", 2, 'duplicate row key "111"'),
            ("missing attribute", '{"111": {"owner": "a", "admins": []}}', None, "data/accounts.json", 1,
             '$["111"]: missing attribute `env` of record `acme.Account`'),
            ("unknown attribute", '{"111": {"owner": "a", "env": "dev", "admins": [], "colour": "red"}}', None,
             "data/accounts.json", 1, '$["111"].colour: unknown attribute `colour`'),
            ("null for a required attribute", '{"111": {"owner": null, "env": "dev", "admins": []}}', None,
             "data/accounts.json", 1, '$["111"].owner: expected a String, found null'),
            ("bad set element", '{"111": {"owner": "a", "env": "dev", "admins": ["x", 3]}}', None,
             "data/accounts.json", 1, '$["111"].admins[1]: expected a String'),
            ("bad duration", '{"111": {"owner": "a", "env": "dev", "admins": [], "limit": "90 minutes"}}', None,
             "data/accounts.json", 1, '$["111"].limit: invalid duration'),
            ("truncated JSON", '{"111": {"owner": "a", "env": "dev",\n', None, "data/accounts.json", 1,
             "unexpected end of file"),
            ("invalid UTF-8", b'{"111": {"owner": "a\xff", "env": "dev", "admins": []}}'.decode("latin-1"), None,
             "data/accounts.json", 1, "invalid UTF-8"),
            ("JSON Lines without key", None, '{"key": "team-a", "leads": []}\n{"leads": []}\n', "data/teams.jsonl", 2,
             "no `key` member"),
            ("JSON Lines wrong type", None, '{"key": "team-a", "leads": "x"}\n', "data/teams.jsonl", 1,
             "$.leads: expected an array (a Set), found a string"),
        ]
        for name, accounts, teams, file, line, text in bad_cases:
            r = os.path.join(tmp, "bad-" + name.replace(" ", "-"))
            if name == "invalid UTF-8":
                write_repo(r)
                with open(os.path.join(r, "data", "accounts.json"), "wb") as f:
                    f.write(accounts.encode("latin-1"))
            else:
                write_repo(r, accounts_text=accounts, teams_text=teams)
            out = os.path.join(tmp, "bad.pvb")
            if os.path.exists(out):
                os.remove(out)
            p = run(pave, "build", r, "-o", out, "--no-analyze")
            check(p.returncode == 1 and not os.path.exists(out), f"{name}: build must fail and write nothing: {p.returncode}")
            p = run(pave, "check", r, "--no-analyze", "--format", "json")
            check(p.returncode == 1, f"{name}: check exits 1, got {p.returncode}")
            try:
                diags = json.loads(p.stdout)["diagnostics"]
            except ValueError:
                diags = []
            hit = [x for x in diags if x["code"] == "invalid-data"]
            check(len(hit) == 1, f"{name}: one invalid-data, got {diags}")
            if hit:
                x = hit[0]
                check(x["file"].endswith(file) and x["line"] == line and text in x["message"],
                      f"{name}: expected {file}:{line} '{text}', got {x['file']}:{x['line']} '{x['message']}'")

        # A data file that does not exist: reported at the table's path in the policy.
        r = os.path.join(tmp, "missing")
        write_repo(r)
        os.remove(os.path.join(r, "data", "teams.jsonl"))
        p = run(pave, "check", r, "--no-analyze", "--format", "json")
        diags = json.loads(p.stdout)["diagnostics"]
        check(p.returncode == 1 and len(diags) == 1 and diags[0]["code"] == "invalid-data" and
              diags[0]["file"].endswith("policy.pave") and diags[0]["line"] == 10 and "no such data file" in diags[0]["message"],
              f"missing data file: {diags}")

    return finish_failures(failures, checks)


if __name__ == "__main__":
    sys.exit(main())
