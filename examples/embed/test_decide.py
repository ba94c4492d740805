#!/usr/bin/env python3
"""ctest driver for examples/embed/decide.c: generates an Ed25519 key pair with openssl,
builds and signs the example bundle with it, then runs the embedding example on the
example inputs and checks the outcomes and the refusal of a wrong key or unsigned bundle.

    test_decide.py --pave build/pave --decide build/tests/pave_embed_decide
"""
import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
INPUTS = os.path.join(ROOT, "examples", "inputs")
EXPECT = {  # input -> exit status of decide (0 allow, 1 deny, 2 approval)
    "allow-dev-role.json": 0,
    "approval-prod-namespace.json": 2,
    "deny-agent-persistent.json": 1,
    "exception-migration-agent.json": 0,
    "invalid-missing-attribute.json": 1,
}


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pave", required=True)
    ap.add_argument("--decide", required=True)
    args = ap.parse_args()
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        key, pub, other, other_pub = (os.path.join(tmp, n) for n in ("k.pem", "k.pub.pem", "o.pem", "o.pub.pem"))
        for priv, public in ((key, pub), (other, other_pub)):
            for cmd in (["openssl", "genpkey", "-algorithm", "ed25519", "-out", priv],
                        ["openssl", "pkey", "-in", priv, "-pubout", "-out", public]):
                r = run(cmd)
                if r.returncode != 0:
                    print(f"FAIL: {' '.join(cmd)}\n{r.stderr}")
                    return 1
        signed, unsigned = os.path.join(tmp, "signed.pvb"), os.path.join(tmp, "unsigned.pvb")
        for extra, out in ((["--sign-key", key], signed), ([], unsigned)):
            r = run([args.pave, "build", os.path.join(ROOT, "examples"), "-o", out] + extra)
            if r.returncode != 0:
                print(f"FAIL: pave build\n{r.stderr}")
                return 1

        for name, status in EXPECT.items():
            r = run([args.decide, signed, pub, os.path.join(INPUTS, name)])
            ok = r.returncode == status and r.stdout.startswith('{"decision":')
            print(f"{'ok  ' if ok else 'FAIL'} {name}: exit {r.returncode} (expected {status})")
            if not ok:
                print(r.stdout, r.stderr)
                failures += 1
        # The input may also come on stdin.
        with open(os.path.join(INPUTS, "allow-dev-role.json")) as f:
            r = run([args.decide, signed, pub], stdin=f)
        if r.returncode != 0:
            print(f"FAIL stdin input: exit {r.returncode}\n{r.stderr}")
            failures += 1
        # Fail closed: another key, an unsigned bundle, a corrupt bundle.
        with open(signed, "rb") as f:
            data = bytearray(f.read())
        data[len(data) // 2] ^= 1
        corrupt = os.path.join(tmp, "corrupt.pvb")
        with open(corrupt, "wb") as f:
            f.write(data)
        for what, bundle, key_file in (("wrong key", signed, other_pub), ("unsigned bundle", unsigned, pub),
                                       ("corrupt bundle", corrupt, pub)):
            r = run([args.decide, bundle, key_file, os.path.join(INPUTS, "allow-dev-role.json")])
            ok = r.returncode == 3 and r.stdout == "" and "cannot load" in r.stderr
            print(f"{'ok  ' if ok else 'FAIL'} {what} refused: {r.stderr.strip()}")
            failures += 0 if ok else 1
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
