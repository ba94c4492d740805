#!/usr/bin/env python3
"""Prepares what the three bindings' test suites share (bindings/README.md):

usage: prepare.py --pave build/pave --shared ../shared --examples examples OUT

OUT/manifest.json lists, for every case of <shared>/conformance/cases/decision that has
decisions, the case file, the bundle `pave build` made of it and the file holding what
`pave eval` printed for its inputs (one decision JSON per line, in the case's order, with
--explain when any of its decisions asks for it, as the conformance runner does). Each
binding's driver reads the case file for the inputs, decides them through its own API and
compares the decision text with the line `pave eval` printed, byte for byte.

It also writes a signed example bundle and the keys the load tests use: key.pub.pem (the
signer), other.pub.pem (another key), rotation.pub.pem (both, the signer second),
signed.pvb, tampered.pvb (one byte flipped) and signed-expected.jsonl (`pave eval` of the
example inputs listed in the manifest).
"""
import argparse
import glob
import json
import os
import subprocess
import sys


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        sys.exit(f"prepare.py: {' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pave", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--examples", required=True)
    ap.add_argument("out")
    a = ap.parse_args()
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    cases = []
    root = os.path.join(a.shared, "conformance", "cases", "decision")
    for case_json in sorted(glob.glob(os.path.join(root, "*", "case.json"))):
        spec = json.load(open(case_json))
        decisions = spec.get("decisions", [])
        if not decisions:
            continue
        name = os.path.basename(os.path.dirname(case_json))
        bundle = os.path.join(out, f"{name}.pvb")
        cmd = [a.pave, "build", os.path.dirname(case_json), "-o", bundle]
        if "now" in spec:
            cmd += ["--now", spec["now"]]
        run(cmd)
        explain = any(d.get("explain") for d in decisions)
        lines = "".join(json.dumps(d["input"]) + "\n" for d in decisions)
        got = run([a.pave, "eval", bundle, "-"] + (["--explain"] if explain else []), input=lines)
        got = [l for l in got.splitlines() if l.strip()]
        if len(got) != len(decisions):
            sys.exit(f"prepare.py: pave eval gave {len(got)} decisions for {len(decisions)} inputs in {name}")
        expected = os.path.join(out, f"{name}.expected.jsonl")
        with open(expected, "w") as f:
            f.write("\n".join(got) + "\n")
        cases.append({"name": name, "case": os.path.abspath(case_json), "bundle": bundle,
                      "explain": explain, "expected": expected})
    if not cases:
        sys.exit(f"prepare.py: no decision cases under {root}")

    # Keys and a signed bundle of the example repository.
    key = os.path.join(out, "key.pem")
    other = os.path.join(out, "other.pem")
    for k in (key, other):
        if not os.path.exists(k):
            run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", k])
    run(["openssl", "pkey", "-in", key, "-pubout", "-out", os.path.join(out, "key.pub.pem")])
    run(["openssl", "pkey", "-in", other, "-pubout", "-out", os.path.join(out, "other.pub.pem")])
    with open(os.path.join(out, "rotation.pub.pem"), "w") as f:
        f.write(open(os.path.join(out, "other.pub.pem")).read() + open(os.path.join(out, "key.pub.pem")).read())
    signed = os.path.join(out, "signed.pvb")
    run([a.pave, "build", a.examples, "--sign-key", key, "-o", signed])
    data = bytearray(open(signed, "rb").read())
    data[len(data) // 2] ^= 0x01
    open(os.path.join(out, "tampered.pvb"), "wb").write(bytes(data))
    inputs = sorted(glob.glob(os.path.join(a.examples, "inputs", "*.json")))
    got = run([a.pave, "eval", signed, "--public-key", os.path.join(out, "key.pub.pem")] + inputs)
    got = [l for l in got.splitlines() if l.strip()]
    if len(got) != len(inputs):
        sys.exit("prepare.py: pave eval of the example inputs gave the wrong number of decisions")
    with open(os.path.join(out, "signed-expected.jsonl"), "w") as f:
        f.write("\n".join(got) + "\n")

    manifest = {"cases": cases, "signed": {
        "bundle": signed, "tampered": os.path.join(out, "tampered.pvb"),
        "key": os.path.join(out, "key.pub.pem"), "other_key": os.path.join(out, "other.pub.pem"),
        "rotation": os.path.join(out, "rotation.pub.pem"),
        "inputs": [os.path.abspath(i) for i in inputs],
        "expected": os.path.join(out, "signed-expected.jsonl")}}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    n = sum(len(json.load(open(c["case"]))["decisions"]) for c in cases)
    print(f"prepare.py: {len(cases)} cases, {n} decisions, signed bundle and keys in {out}")


if __name__ == "__main__":
    main()
