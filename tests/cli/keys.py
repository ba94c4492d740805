#!/usr/bin/env python3
"""Trusted keys on the command line (SPEC §7.1, docs/bundle.md): a configured key is never
"no key" (an empty or invalid key file fails; `verify` says "signature verified" only after
a real check), and key rotation (`--public-key` repeated, several keys in one PEM file).
Usage: keys.py --pave build/pave"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import Scratch, parse_pave_args, run_cli_cases  # noqa: E402

POLICY = 'principal Human { email: String }\nrequest Role { name: String }\nallow a on Role when request.name == "x";\n'
INPUT = '{"type":"Role","principal":{"type":"Human","email":"a@b"},"request":{"name":"x"},"context":{"time":"2026-01-01T00:00:00Z"}}'


def main():
    args = parse_pave_args()
    scratch = Scratch()
    path, write = scratch.path, scratch.write

    def run(argv, **kw):
        return subprocess.run(argv, capture_output=True, timeout=60, **kw)

    for k in ("a", "b"):
        run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", path(k + ".key")], check=True)
        run(["openssl", "pkey", "-in", path(k + ".key"), "-pubout", "-out", path(k + ".pub")], check=True)
    run(["openssl", "genpkey", "-algorithm", "rsa", "-pkeyopt", "rsa_keygen_bits:1024", "-out", path("rsa.key")], check=True)
    run(["openssl", "pkey", "-in", path("rsa.key"), "-pubout", "-out", path("rsa.pub")], check=True)
    pub = {k: open(path(k + ".pub")).read() for k in ("a", "b")}
    both = write("both.pub", pub["b"] + pub["a"])
    bad_second = write("bad-second.pub", pub["a"] + "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n")
    empty = write("empty.pem", "")
    garbage = write("garbage.pem", "hello\n")
    inp = write("in.json", INPUT)
    os.makedirs(path("repo"))
    src = os.path.dirname(write("repo/p.pave", POLICY))
    for name, extra in (("a.pvb", ["--sign-key", path("a.key")]), ("unsigned.pvb", [])):
        r = run([args.pave, "build", src, "-o", path(name), "--no-analyze"] + extra)
        if r.returncode != 0:
            print(f"FAIL setup: pave build {name}: {r.stderr.decode()}")
            print("0 passed, 1 failed")
            return 1
    a_pvb, unsigned = path("a.pvb"), path("unsigned.pvb")

    cases = [
        # (name, argv, expected exit, text that must appear, text that must not appear)
        ("empty key file (eval)", ["eval", a_pvb, inp, "--public-key", empty], 2, "no public key found", '"decision"'),
        ("/dev/null as key (eval)", ["eval", unsigned, inp, "--public-key", "/dev/null"], 2, "no public key found", '"decision"'),
        ("empty key name (eval)", ["eval", unsigned, inp, "--public-key", ""], 2, "empty file name", '"decision"'),
        ("not PEM (eval)", ["eval", a_pvb, inp, "--public-key", garbage], 2, "no public key found", '"decision"'),
        ("RSA key (eval)", ["eval", a_pvb, inp, "--public-key", path("rsa.pub")], 2, "not an Ed25519 key", '"decision"'),
        ("private key as public key", ["eval", a_pvb, inp, "--public-key", path("a.key")], 2, "is not a public key", '"decision"'),
        ("one bad key among good ones", ["eval", a_pvb, inp, "--public-key", bad_second], 2, "public key 2", '"decision"'),
        ("/dev/null as key (verify, foreign-signed)", ["verify", a_pvb, "--public-key", "/dev/null"], 1,
         "no public key found", "signature verified"),
        ("wrong key (verify)", ["verify", a_pvb, "--public-key", path("b.pub")], 1, "signature verification failed",
         "signature verified"),
        ("unsigned bundle with a key", ["eval", unsigned, inp, "--public-key", path("a.pub")], 2, "not signed", '"decision"'),
        ("right key (verify)", ["verify", a_pvb, "--public-key", path("a.pub")], 0, "signature verified", None),
        ("rotation: repeated --public-key", ["verify", a_pvb, "--public-key", path("b.pub"), "--public-key", path("a.pub")],
         0, "signature verified", None),
        ("rotation: two keys in one file", ["eval", a_pvb, inp, "--public-key", both], 0, '"decision":"allow"', None),
        ("rotation: neither key signed it", ["eval", a_pvb, inp, "--public-key", path("b.pub"), "--public-key", path("b.pub")],
         2, "verification failed", '"decision"'),
        ("no key: not checked, said so", ["verify", a_pvb], 0, "signature not checked", "signature verified"),
    ]
    cases = [(name, argv, want, text, {"absent": [absent] if absent else []}) for name, argv, want, text, absent in cases]
    return run_cli_cases(args.pave, cases).finish()


if __name__ == "__main__":
    sys.exit(main())
