#!/usr/bin/env python3
"""Rule metadata reaches the user (SPEC §3.2, §7.4): `pave inspect` shows each rule's doc
comment, controls, severity, ticket and place; `eval --explain` trace entries carry `doc`,
`controls` and `severity`, and `failed` names the file (relative to the repository root);
a decision carries `severity`, the highest among its deny rules.
Usage: metadata.py --pave build/pave"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

POLICY = '''namespace demo;

principal Human { email: String }
request Role { name: String, env: String }

/// Anyone may read.
allow read on Role when request.name == "read";

/// Production is reviewed.
/// Second line of the doc.
@severity(high)
@controls(std.controls.NistCsf.PR_AA_05)
deny prod on Role when request.env == "prod" because "prod needs review";

@severity(critical)
@controls(std.controls.OwaspNhi.NHI4, std.controls.ZeroTrust.T5)
deny root on Role when request.name == "root";

deny plain on Role when request.name == "plain";

exception waiver lifts plain until 2099-01-01 owner "team-a" ticket "SEC-9" when request.env == "dev";
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pave", required=True)
    args = ap.parse_args()
    args.pave = os.path.abspath(args.pave)
    tmp = tempfile.mkdtemp()
    repo = os.path.join(tmp, "repo")
    os.makedirs(os.path.join(repo, "policies"))
    with open(os.path.join(repo, "pave.toml"), "w") as f:
        f.write('[bundle]\nname = "demo"\n')
    with open(os.path.join(repo, "policies", "demo.pave"), "w") as f:
        f.write(POLICY)
    bundle = os.path.join(tmp, "demo.pvb")
    failures = []
    passed = 0

    def check(name, ok, detail=""):
        nonlocal passed
        if ok:
            passed += 1
        else:
            failures.append(f"FAIL {name} {detail}")

    # Built from another directory, so that paths are relative to the root, not the cwd.
    r = subprocess.run([args.pave, "build", repo, "-o", bundle, "--no-analyze"], capture_output=True, text=True, cwd=tmp)
    if r.returncode != 0:
        print(f"FAIL setup: {r.stdout}{r.stderr}\n0 passed, 1 failed")
        return 1

    def decide(request):
        inp = {"type": "Role", "principal": {"type": "Human", "email": "a@b"}, "request": request,
               "context": {"time": "2026-11-27T10:00:00Z"}}
        r = subprocess.run([args.pave, "eval", bundle, "-", "--explain"], input=json.dumps(inp) + "\n",
                           capture_output=True, text=True)
        return r.stdout.strip()

    raw = decide({"name": "root", "env": "prod"})
    d = json.loads(raw)
    check("severity is the highest among deny_rules", d.get("severity") == "critical", raw[:300])
    check("severity sits between bundle and trace",
          raw.index('"bundle"') < raw.index('"severity"') < raw.index('"trace"'), raw[:300])
    trace = {t["rule"]: t for t in d["trace"]}
    check("trace doc", trace["demo.prod"].get("doc") == "Production is reviewed.\nSecond line of the doc.",
          str(trace["demo.prod"]))
    check("trace controls", trace["demo.root"].get("controls") ==
          ["std.controls.OwaspNhi.NHI4", "std.controls.ZeroTrust.T5"], str(trace["demo.root"]))
    check("trace severity", trace["demo.prod"].get("severity") == "high", str(trace["demo.prod"]))
    check("no metadata when none is set", not ({"doc", "controls", "severity"} & set(trace["demo.plain"])),
          str(trace["demo.plain"]))
    failed = trace["demo.read"].get("failed", {})
    check("failed names the file relative to the root", failed.get("file") == "policies/demo.pave"
          and failed.get("line") == 7 and failed.get("text") == 'request.name == "read"', str(failed))

    d2 = json.loads(decide({"name": "read", "env": "dev"}))
    check("no severity without deny rules", "severity" not in d2 and d2["decision"] == "allow", str(d2)[:300])
    d3 = json.loads(decide({"name": "read", "env": "prod"}))
    check("severity of one deny", d3.get("severity") == "high", str(d3)[:300])
    d4 = json.loads(decide({"name": "plain", "env": "test"}))
    check("a deny without severity gives none", "severity" not in d4 and d4["decision"] == "deny", str(d4)[:300])

    r = subprocess.run([args.pave, "inspect", bundle], capture_output=True, text=True)
    out = r.stdout
    for text in ["severity: critical", "controls: std.controls.OwaspNhi.NHI4, std.controls.ZeroTrust.T5",
                 "doc:      Production is reviewed.", "Second line of the doc.", "ticket:   SEC-9",
                 "because:  prod needs review", "at:       policies/demo.pave:13"]:
        check(f"inspect shows {text!r}", text in out, out[-800:])

    # Stripped bundles keep the metadata but have no source map, hence no `failed` place.
    stripped = os.path.join(tmp, "stripped.pvb")
    subprocess.run([args.pave, "build", repo, "-o", stripped, "--no-analyze", "--strip"], check=True, capture_output=True)
    r = subprocess.run([args.pave, "inspect", stripped], capture_output=True, text=True)
    check("stripped inspect keeps severity, drops the place", "severity: high" in r.stdout and "      at:" not in r.stdout,
          r.stdout[-400:])

    for f in failures:
        print(f)
    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
