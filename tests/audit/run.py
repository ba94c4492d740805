#!/usr/bin/env python3
"""Tests of `pave audit` (SPEC §11) on logs of the example repository.

    run.py --pave build/pave [--examples examples]

The logs are written by tests/audit/logs.py (`pave eval` over generated inputs, wrapped
into SPEC §10.1 records). Every expected count is computed here, in Python, from the same
JSON Lines; expected re-decisions come from `pave eval` with the new bundle.
"""
import argparse
import datetime as dt
import gzip
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import logs  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FAILURES = []
PASSED = [0]


def check(name, cond, detail=""):
    if cond:
        PASSED[0] += 1
    else:
        FAILURES.append(f"{name}: {detail}")
        print(f"FAIL {name}: {detail}")


def run(pave, *args, stdin=None):
    p = subprocess.run([pave, *args], capture_output=True, text=True, input=stdin)
    return p.returncode, p.stdout, p.stderr


def at(day, hour=10):
    return dt.datetime(2026, 12, day, hour, 0, 0, 123000, tzinfo=dt.timezone.utc)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def gen_inputs(n, rng, day):
    """Inputs for the example catalog: cloud roles, secrets (some by the migration agent,
    whose exception lifts a deny), namespaces, and some invalid ones."""
    out = []
    for _ in range(n):
        k = rng.randrange(5)
        ctx = {"time": iso(at(day, rng.randrange(8, 18))), "break_glass": False}
        if k == 0:
            out.append({"type": "CloudRole",
                        "principal": {"type": "Human", "email": rng.choice(["ana@acme.io", "bo@acme.io", "cy@acme.io"]),
                                      "groups": ["team-payments"], "on_call": False},
                        "request": {"account": "111122223333", "owner": "team-payments", "role": "operator",
                                    "env": rng.choice(["dev", "staging", "prod"]),
                                    "duration": rng.choice(["30m", "2h", "3h", "5h"]), "tags": {"cost-center": "cc-42"}},
                        "context": ctx})
        elif k == 1:
            op = rng.choice(["team-data", "team-data", "team-payments"])
            out.append({"type": "SecretAccess",
                        "principal": {"type": "Agent", "model": "loader-small", "operator": op,
                                      "delegated_by": rng.choice(["li@acme.io", "mo@acme.io"])},
                        "request": {"path": f"kv/teams/{op}/migration/warehouse", "mode": "read",
                                    "persistent": rng.random() < 0.7, "ttl": rng.choice(["5m", "10m"])},
                        "context": ctx})
        elif k == 2:
            out.append({"type": "SecretAccess",
                        "principal": {"type": "Workload", "spiffe_id": "spiffe://acme.io/ns/pay/sa/api",
                                      "owner": "team-payments", "env": "prod", "attested": True},
                        "request": {"path": rng.choice(["kv/teams/team-payments/db", "kv/shared/config"]),
                                    "mode": "read", "persistent": False, "ttl": rng.choice(["1h", "2d"])},
                        "context": ctx})
        elif k == 3:
            out.append({"type": "Namespace",
                        "principal": {"type": "Human", "email": "ana@acme.io", "groups": ["team-payments"], "on_call": False},
                        "request": {"name": "payments-dev", "cluster": "nonprod-eu-1", "env": "dev",
                                    "tags": {"owner": "team-payments"},
                                    "network_policy": rng.choice(["default-deny", "open"]), "logging": True},
                        "context": ctx})
        else:
            out.append({"type": "CloudRole", "principal": {"type": "Human", "email": "x@acme.io"},
                        "request": {}, "context": ctx})
    return out


def audit_json(pave, *args):
    rc, out, err = run(pave, "audit", *args, "--format", "json")
    try:
        return rc, json.loads(out), err
    except json.JSONDecodeError:
        return rc, None, err + out


def expected_exceptions(records, digest):
    """Per exception id: uses, distinct principals, first/last, types (records of `digest`);
    per request type: decisions and lifted."""
    uses, types = {}, {}
    for r in records:
        d = r["decision"]
        if d["bundle"]["digest"] != digest:
            continue
        t = types.setdefault(d.get("request_type"), [0, 0])
        t[0] += 1
        t[1] += bool(d["exceptions"])
        for e in d["exceptions"]:
            u = uses.setdefault(e["id"], {"uses": 0, "principals": set(), "first": None, "last": None, "types": set()})
            u["uses"] += 1
            u["principals"].add(json.dumps(r["input"]["principal"], sort_keys=True))
            u["first"] = u["first"] or r["time"]
            u["last"] = r["time"]
            u["types"].add(d["request_type"])
    return uses, types


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pave", required=True)
    ap.add_argument("--examples", default=os.path.join(ROOT, "examples"))
    a = ap.parse_args()
    pave = os.path.abspath(a.pave)
    rng = random.Random(25)
    tmp = tempfile.mkdtemp(prefix="pave-audit-")
    try:
        body(pave, a.examples, tmp, rng)
    finally:
        shutil.rmtree(tmp)
    print(f"{PASSED[0]} passed, {len(FAILURES)} failed")
    return 1 if FAILURES else 0


def build(pave, repo, out, revision):
    rc, _, err = run(pave, "build", repo, "-o", out, "--revision", revision, "--now", "2026-11-27")
    assert rc == 0, err
    return "sha256:" + re.search(r"sha256:([0-9a-f]{64})", run(pave, "verify", out)[1]).group(1)


def body(pave, examples, tmp, rng):
    # Three versions of the example repository: v1 as it is; v0, an older one whose
    # legacy exception ran longer (a stale enforcement point keeps using it); v2, a change
    # that adds a deny and tightens a TTL.
    v1 = os.path.join(tmp, "v1")
    shutil.copytree(examples, v1, ignore=shutil.ignore_patterns("embed"))
    v0 = os.path.join(tmp, "v0")
    shutil.copytree(v1, v0)
    agents = os.path.join(v0, "policies", "agents.pave")
    text = open(agents).read()
    open(agents, "w").write(text.replace("until 2027-01-31T23:59:59Z", "until 2027-02-24T00:00:00Z"))
    v2 = os.path.join(tmp, "v2")
    shutil.copytree(v1, v2)
    cloud = os.path.join(v2, "policies", "cloud.pave")
    text = open(cloud).read()
    assert "request.duration <= 4h" in text
    text = text.replace("request.duration <= 4h", "request.duration <= 1h", 1)  # a tighter TTL
    text += ('\n/// Staging is read-only during the freeze.\n'
             'deny staging_freeze on CloudRole when request.env == Env.staging because "staging is frozen";\n')
    open(cloud, "w").write(text)
    b0, b1, b2 = (os.path.join(tmp, f"b{i}.pvb") for i in range(3))
    d0, d1, d2 = build(pave, v0, b0, "r0"), build(pave, v1, b1, "r1"), build(pave, v2, b2, "r2")
    check("three distinct bundles", len({d0, d1, d2}) == 3)

    # The log: v1 decisions from Dec 1 to 9, plus v0 decisions made in February 2027 (after
    # the migration exception's `until` in v1) by a stale enforcement point.
    lines = []
    for day in range(1, 10):
        ins = gen_inputs(40, rng, day)
        lines += logs.records(pave, b1, ins, [at(day, 8 + i % 10) for i in range(len(ins))], source="serve", client="portal-1")
    stale_ins = [i for i in gen_inputs(80, rng, 9) if i["type"] == "SecretAccess"]
    for i in stale_ins:
        i["context"]["time"] = "2027-02-03T10:00:00Z"
    stale = logs.records(pave, b0, stale_ins, [dt.datetime(2027, 2, 3, 10, 0, 0, tzinfo=dt.timezone.utc)] * len(stale_ins))
    lines += stale
    records = [json.loads(l) for l in lines]
    log = os.path.join(tmp, "decisions.jsonl")
    open(log, "w").write("\n".join(lines) + "\n")
    v1_records = [r for r in records if r["decision"]["bundle"]["digest"] == d1]

    # ---- audit exceptions -------------------------------------------------------------------
    rc, rep, err = audit_json(pave, "exceptions", "--bundle", b1, log, "--now", "2026-12-10")
    check("exceptions: runs", rep is not None, err)
    if rep is None:
        return
    uses, types = expected_exceptions(records, d1)
    stale_uses = sum(1 for r in records for e in r["decision"]["exceptions"]
                     if e["id"] == "acme.agents.migration_agent" and r["time"] >= "2027-01-31T23:59:59")
    check("exceptions: the log has exception uses", uses and stale_uses > 0, (uses.keys(), stale_uses))
    by_id = {e["id"]: e for e in rep["exceptions"]}
    check("exceptions: every exception of the bundle", set(by_id) == {"acme.agents.migration_agent", "acme.k8s.legacy_collector"},
          list(by_id))
    for eid, e in by_id.items():
        u = uses.get(eid, {"uses": 0, "principals": set(), "first": None, "last": None, "types": set()})
        check(f"exceptions: {eid} uses", e["uses"] == u["uses"], (e["uses"], u["uses"]))
        check(f"exceptions: {eid} principals", e["principals"] == len(u["principals"]), (e["principals"], len(u["principals"])))
        check(f"exceptions: {eid} first/last", (e["first_use"], e["last_use"]) == (u["first"], u["last"]))
        check(f"exceptions: {eid} types", set(e["request_types"]) == u["types"])
    mig = by_id["acme.agents.migration_agent"]
    check("exceptions: owner/ticket/until", (mig["owner"], mig["ticket"], mig["until"]) ==
          ("team-data", "SEC-2041", "2027-01-31T23:59:59Z"), mig)
    check("exceptions: time left", mig["seconds_left"] == int((dt.datetime(2027, 1, 31, 23, 59, 59) - dt.datetime(2026, 12, 10)).total_seconds()))
    check("exceptions: never used", rep["never_used"] == ["acme.k8s.legacy_collector"], rep["never_used"])
    # Stale bundle: v0's uses of the migration exception after v1's `until`.
    check("stale bundle: uses after until counted", mig["uses_after_until"] == stale_uses, (mig["uses_after_until"], stale_uses))
    check("stale bundle: samples name the stale digest", all(s["digest"] == d0 for s in mig["uses_after_until_sample"]))
    check("stale bundle: exit 1", rc == 1, rc)
    # Two digests: counted apart, never mixed.
    got = {b["digest"]: b["records"] for b in rep["log"]["bundles"]}
    check("two digests: per-digest counts", got == {d1: len(v1_records), d0: len(stale)}, got)
    shares = {t["request_type"]: (t["decisions"], t["lifted"]) for t in rep["request_types"]}
    check("exceptions: per type share", shares == {k: tuple(v) for k, v in types.items()}, (shares, types))
    # Without the stale records: nothing to report at Dec 10 → exit 0.
    clean = os.path.join(tmp, "clean.jsonl")
    open(clean, "w").write("\n".join(l for l, r in zip(lines, records) if r["decision"]["bundle"]["digest"] == d1) + "\n")
    rc, rep2, _ = audit_json(pave, "exceptions", "--bundle", b1, clean, "--now", "2026-12-10")
    check("clean log: exit 0", rc == 0 and rep2 and not rep2["findings"], rc)
    # Expiring: legacy_collector ends 2027-01-15, 36 days after Dec 10.
    rc, rep3, _ = audit_json(pave, "exceptions", "--bundle", b1, clean, "--now", "2026-12-10", "--expiring", "40d")
    exp = sorted(e["id"] for e in rep3["exceptions"] if e["expiring"])
    check("expiring: within 40d", exp == ["acme.k8s.legacy_collector"] and rc == 1, (exp, rc))
    rc, _, _ = audit_json(pave, "exceptions", "--bundle", b1, clean, "--now", "2026-12-10", "--expiring", "30d")
    check("expiring: not within 30d, exit 0", rc == 0, rc)
    # Rate threshold: SecretAccess's share of lifted decisions.
    sa = types["acme.SecretAccess"]
    share = sa[1] / sa[0]
    rc, rep4, _ = audit_json(pave, "exceptions", "--bundle", b1, clean, "--now", "2026-12-10", "--max-rate", f"{share * 0.9:.4f}")
    over = [t["request_type"] for t in rep4["request_types"] if t["over_max_rate"]]
    check("max-rate: exceeded, exit 1", rc == 1 and over == ["acme.SecretAccess"], (rc, over))
    rc, _, _ = audit_json(pave, "exceptions", "--bundle", b1, clean, "--now", "2026-12-10", "--max-rate", f"{share * 100 + 1:.2f}%")
    check("max-rate: not exceeded, exit 0", rc == 0, rc)
    # Text and CSV carry the same facts.
    rc, text, _ = run(pave, "audit", "exceptions", "--bundle", b1, log, "--now", "2026-12-10")
    check("text: names never-used and stale uses", "candidate to remove" in text and f"{stale_uses} uses at or after" in text, text[:2000])
    rc, csv, _ = run(pave, "audit", "exceptions", "--bundle", b1, log, "--now", "2026-12-10", "--format", "csv")
    rows = csv.strip().splitlines()
    check("csv: a header and a row per exception", len(rows) == 3 and rows[0].startswith("exception,lifts,owner"), rows)

    # ---- malformed and truncated lines; .gz; directories; stdin ------------------------------
    bad = lines[:10] + ["this is not json", lines[10][: len(lines[10]) // 2],
                        lines[11].replace('"log_version":1', '"log_version":2'), ""] + lines[12:20] + [lines[20][:50]]
    badlog = os.path.join(tmp, "bad.jsonl")
    open(badlog, "w").write("\n".join(bad))  # the last line is cut short, without a newline
    rc, rep5, err = audit_json(pave, "exceptions", "--bundle", b1, badlog, "--now", "2026-12-10")
    check("malformed: counted", rep5 and rep5["log"]["malformed"] == 4 and rep5["log"]["records"] == 18,
          rep5 and rep5["log"])
    for n in (11, 12, 13, 23):
        check(f"malformed: line {n} reported", f"{badlog}:{n}:" in err, err)
    gz = os.path.join(tmp, "logs", "2026-12.jsonl.gz")
    os.makedirs(os.path.dirname(gz))
    with gzip.open(gz, "wt") as f:
        f.write("\n".join(lines) + "\n")
    rc, rep6, err = audit_json(pave, "exceptions", "--bundle", b1, gz, "--now", "2026-12-10")
    check(".gz: same report as plain", rep6 and rep6["exceptions"] == rep["exceptions"] and rep6["log"]["records"] == len(lines), err)
    shutil.copy(clean, os.path.join(tmp, "logs", "more.jsonl"))
    rc, rep7, err = audit_json(pave, "exceptions", "--bundle", b1, os.path.join(tmp, "logs"), "--now", "2026-12-10")
    check("directory: every file read", rep7 and rep7["log"]["records"] == len(lines) + len(v1_records), err)
    rc, out, err = run(pave, "audit", "exceptions", "--bundle", b1, "-", "--now", "2026-12-10", "--format", "json",
                       stdin="\n".join(lines) + "\n")
    check("stdin: read", rc == 1 and json.loads(out)["log"]["records"] == len(lines), err)

    # ---- audit recheck ----------------------------------------------------------------------
    granted = [r for r in v1_records if r["decision"]["decision"] in ("allow", "approval")]
    # Some records with a redacted value: counted apart, never re-decided.
    red = json.loads(lines[0])
    redacted_lines = []
    for r in granted[:3]:
        r = json.loads(json.dumps(r))
        r["id"] = r["id"][:-4] + "ffff"
        first = next(iter(r["input"]["principal"].keys() - {"type"}))
        r["input"]["principal"][first] = {"redacted": "sha256:" + "ab" * 32}
        redacted_lines.append(json.dumps(r))
    del red
    relog = os.path.join(tmp, "recheck.jsonl")
    open(relog, "w").write("\n".join([l for l, r in zip(lines, records) if r["decision"]["bundle"]["digest"] == d1] + redacted_lines) + "\n")

    def expected_changes(bundle, when):
        ins = []
        for r in granted:
            i = json.loads(json.dumps(r["input"]))
            if when:
                i["context"]["time"] = when
            ins.append(i)
        new = logs.decide(pave, bundle, ins)
        out = {}
        for r, d in zip(granted, new):
            a, b = r["decision"]["decision"], d["decision"]
            if (a != "deny" and b == "deny") or (a == "allow" and b == "approval"):
                out[r["id"]] = (b, d["deny_rules"], d["reasons"], [e["id"] for e in d["exceptions"]])
        return out

    def recheck(bundle, *extra):
        rc, rep, err = audit_json(pave, "recheck", "--bundle", bundle, relog, *extra)
        got = {c["id"]: (c["to"], c["deny_rules"], c["reasons"], c["exceptions"]) for c in (rep or {}).get("changes", [])}
        return rc, rep, got, err

    when = "2026-12-10T12:00:00Z"
    want = expected_changes(b2, when)
    rc, rep8, got, err = recheck(b2, "--now", when)
    check("recheck: new deny and tighter TTL revoke grants", len(want) > 0, want)
    check("recheck: record for record as pave eval", got == want, (sorted(got.items())[:5], sorted(want.items())[:5], err))
    check("recheck: the new deny is among them", any("acme.cloud.staging_freeze" in v[1] for v in got.values()))
    check("recheck: a tightened TTL is among them", any(v[0] == "deny" and not v[1] for v in got.values()))
    check("recheck: exit 1", rc == 1, rc)
    check("recheck: redacted counted apart", rep8 and rep8["summary"]["redacted"] == 3 and
          rep8["summary"]["rechecked"] == len(granted), rep8 and rep8["summary"])
    check("recheck: redacted never re-decided", not any(i.endswith("ffff") for i in got))
    want_logged = expected_changes(b2, None)
    rc, _, got, _ = recheck(b2, "--at", "logged", "--now", when)
    check("recheck --at logged: as pave eval at the logged time", got == want_logged and rc == (1 if want_logged else 0))
    # The same bundle at a time before any exception ends: nothing changes.
    rc, _, got, _ = recheck(b1, "--now", "2026-12-10")
    check("recheck: same bundle, same time range, nothing to revoke", rc == 0 and got == {}, (rc, list(got.items())[:3]))
    # The same bundle after the migration exception's `until`: its lifted grants become revocations.
    lifted = {r["id"] for r in granted if any(e["id"] == "acme.agents.migration_agent" for e in r["decision"]["exceptions"])}
    rc, _, got, _ = recheck(b1, "--now", "2027-02-01")
    want = expected_changes(b1, "2027-02-01T00:00:00Z")
    check("recheck: exception past until revokes its lifted grants", lifted and lifted <= set(got) and got == want and rc == 1,
          (len(lifted), len(got), len(want)))
    check("recheck: revoked by the lifted deny",
          all("acme.agents.agent_persistent" in got[i][1] for i in lifted))
    rc, text, _ = run(pave, "audit", "recheck", "--bundle", b2, relog, "--now", when)
    check("recheck text: a line per revocation", text.count("\nrevoke ") + text.startswith("revoke ") == len(expected_changes(b2, when)))

    # ---- audit show -------------------------------------------------------------------------
    target = next(r for r in v1_records if r["decision"]["exceptions"])
    line_no = next(n for n, l in enumerate(open(os.path.join(v1, "policies", "agents.pave")), 1)
                   if l.startswith("exception migration_agent"))
    rc, text, err = run(pave, "audit", "show", target["id"], log, "--bundle", b1)
    check("show: found", rc == 0, err)
    for part in ("team-data", "SEC-2041", "2027-01-31T23:59:59Z", f"policies/agents.pave:{line_no}", d1, "r1",
                 target["input"]["principal"]["delegated_by"], target["decision"]["decision"]):
        check(f"show: mentions {part}", part in text, text)
    rc, out, _ = run(pave, "audit", "show", target["id"], log, "--format", "json")
    check("show json: the record", rc == 0 and json.loads(out)["record"]["input"] == target["input"])
    # An id written with escapes (any JSON writer may) is found by its text.
    esc = json.loads(lines[3])
    plain_id = esc["id"]
    esc_line = lines[3].replace(f'"id":"{plain_id}"', '"id":"' + "".join(f"\\u{ord(c):04x}" for c in plain_id) + '"')
    esclog = os.path.join(tmp, "escaped.jsonl")
    open(esclog, "w").write(esc_line + "\n")
    rc, out, err = run(pave, "audit", "show", plain_id, esclog, "--format", "json")
    check("show: an escaped id is found", rc == 0 and json.loads(out)["record"]["input"] == esc["input"], (rc, err))
    rc, _, err = run(pave, "audit", "show", "0000-nope", log)
    check("show: unknown id exits 1", rc == 1 and "no decision" in err, (rc, err))

    # ---- usage and I/O errors ---------------------------------------------------------------
    for name, args in [("missing log", ["exceptions", "--bundle", b1, os.path.join(tmp, "nope.jsonl")]),
                       ("bad --expiring", ["exceptions", "--bundle", b1, log, "--expiring", "soon"]),
                       ("bad --max-rate", ["exceptions", "--bundle", b1, log, "--max-rate", "lots"]),
                       ("bad --at", ["recheck", "--bundle", b1, log, "--at", "then"]),
                       ("bad bundle", ["recheck", "--bundle", log, log]),
                       ("bad format", ["show", "x", log, "--format", "csv"])]:
        rc, _, err = run(pave, "audit", *args)
        check(f"usage: {name} exits 2", rc == 2 and "error" in err, (rc, err))


if __name__ == "__main__":
    sys.exit(main())
