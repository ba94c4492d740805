#!/usr/bin/env python3
"""Command-line behaviour on bad input and misuse: exit codes and clear messages, never a
crash or a hang. Usage: run.py --pave build/pave"""
import argparse
import os
import subprocess
import sys
import tempfile

UNGRANTED = 'principal Human { email: String }\nrequest Role { name: String }\n'
GOOD = 'principal Human { email: String }\nrequest Role { name: String }\nallow a on Role when request.name == "x";\n'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pave", required=True)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()

    def write(name, data):
        path = os.path.join(tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return path

    deep = write("deep/p.pave", b"allow r on X when " + b"(" * 5_000_000 + b"x" + b")" * 5_000_000 + b";\n")
    cases = [
        # (name, argv, expected exit, text that must appear in stdout+stderr)
        ("help", ["--help"], 0, "check"),
        ("check help", ["check", "--help"], 0, "--format"),
        ("no command", [], 2, ""),
        ("unknown command", ["frobnicate"], 2, ""),
        ("missing path", ["check", os.path.join(tmp, "nope")], 2, "no such file or directory"),
        ("bad format", ["check", write("ok/p.pave", GOOD), "--format", "xml"], 2, "unknown format"),
        ("bad --now", ["check", write("ok2/p.pave", GOOD), "--now", "yesterday"], 2, "--now"),
        ("bad --now (build)", ["build", write("ok3/p.pave", GOOD), "-o", os.devnull, "--now", "2026-13-01"], 2, "is not a timestamp"),
        ("bad --now (test)", ["test", write("ok4/p.pave", GOOD), "--now", "soon"], 2, "is not a timestamp"),
        ("good", ["check", write("ok3/p.pave", GOOD)], 0, "no problems found"),
        ("binary junk", ["check", write("junk/p.pave", bytes(range(256)) * 64)], 1, "error[syntax]"),
        ("not utf-8", ["check", write("latin1/p.pave", "allow r on X when x == \"caf\xe9\";".encode("latin-1"))], 1,
         "not valid UTF-8"),
        ("10 MB of parentheses", ["check", deep], 1, "error[syntax]"),
        ("nested parentheses under the size limit",
         ["check", write("deep2/p.pave", b"allow r on X when " + b"(" * 100_000 + b"x" + b")" * 100_000 + b";")], 1,
         "nesting is too deep"),
        ("bad pave.toml", ["check", os.path.dirname(write("toml/p.pave", GOOD))], 2, "pave.toml"),
        ("lint for a language error", ["check", os.path.dirname(write("toml2/p.pave", GOOD))], 2, "not a lint"),
        # The repository root is the nearest folder above the paths with a pave.toml (not
        # past a `.git`): `pave check policies` in a repository reads the root's pave.toml.
        ("root pave.toml read for a subfolder",
         ["check", os.path.dirname(write("repo/policies/p.pave", UNGRANTED))], 1,
         "error[no-approved-path]"),
        ("root pave.toml read for a file",
         ["check", write("repo/one/p.pave", UNGRANTED)], 1, "error[no-approved-path]"),
        ("no pave.toml read past .git",
         ["check", os.path.dirname(write("repo/vendored/policies/p.pave", UNGRANTED))], 0,
         "warning[no-approved-path]"),
        ("diff of a version with errors", ["diff", write("bad/p.pave", "allow r on Nothing;\n"),
                                           write("ok5/p.pave", GOOD)], 2, "has errors"),
        ("directory as bundle", ["eval", tmp], 2, "directory"),
        ("garbage bundle", ["eval", write("b.pvb", b"PAVB" + b"\0" * 64)], 2, "pave: error"),
        ("build without -o", ["build", write("ok4/p.pave", GOOD)], 2, "--output"),
    ]
    write("repo/pave.toml", '[lint]\n"no-approved-path" = "error"\n')
    os.makedirs(os.path.join(tmp, "repo", "vendored", ".git"))
    write("toml/pave.toml", "[lint\n")
    write("toml2/pave.toml", '[lint]\n"type-mismatch" = "warning"\n')
    unreadable = write("locked/p.pave", GOOD)
    os.chmod(unreadable, 0)
    if os.geteuid() != 0:  # root reads anything
        cases.append(("unreadable file", ["check", unreadable], 2, "cannot read"))

    passed = failed = 0
    for name, argv, want, text in cases:
        try:
            p = subprocess.run([args.pave] + argv, capture_output=True, timeout=60)
        except subprocess.TimeoutExpired:
            print(f"FAIL {name}: timed out")
            failed += 1
            continue
        out = (p.stdout + p.stderr).decode("utf-8", "replace")
        problems = []
        if p.returncode != want:
            problems.append(f"exit {p.returncode}, expected {want}")
        if text and text not in out:
            problems.append(f"output lacks {text!r}")
        if "internal error" in out or p.returncode < 0:
            problems.append("crashed")
        if problems:
            failed += 1
            print(f"FAIL {name}: {'; '.join(problems)}\n  {out[:400]}")
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
