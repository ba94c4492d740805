"""The shared driver: every decision case of the conformance suite, decided through the
Python API, gives byte for byte the decision `pave eval` printed (bindings/testdata/prepare.py)."""
import json

import pave


def load_cases(manifest):
    for c in manifest["cases"]:
        spec = json.load(open(c["case"]))
        expected = open(c["expected"]).read().splitlines()
        assert len(expected) == len(spec["decisions"]), c["name"]
        yield c, spec["decisions"], expected


def test_every_case_matches_pave_eval(manifest):
    count = 0
    for c, decisions, expected in load_cases(manifest):
        with pave.Bundle.open(c["bundle"]) as bundle:
            for d, want in zip(decisions, expected):
                label = f'{c["name"]}: {d.get("name")}'
                native = bundle.decide(d["input"], explain=c["explain"])
                text = bundle.decide(json.dumps(d["input"]), explain=c["explain"])
                raw = bundle.decide(json.dumps(d["input"]).encode(), explain=c["explain"])
                assert native.raw == want, label
                assert text.raw == want, label
                assert raw.raw == want, label
                parsed = json.loads(want)
                assert native.decision == parsed["decision"], label
                for attr in ("rules", "deny_rules", "exceptions", "approvals", "grants", "reasons",
                             "errors", "bundle"):
                    assert getattr(native, attr) == parsed[attr], f"{label}: {attr}"
                count += 1
    assert count >= 50  # the suite's decision cases (61 today)


def test_bundle_from_bytes_decides_the_same(manifest):
    c, decisions, expected = next(load_cases(manifest))
    with open(c["bundle"], "rb") as f:
        bundle = pave.Bundle.open(f.read())
    assert [bundle.decide(d["input"], explain=c["explain"]).raw for d in decisions] == expected
