#!/usr/bin/env python3
"""Reproducible bundles (SPEC §7.1: the same sources and options give byte-identical
bundles): building one repository through different spellings of its path, from different
working directories, or from a copy somewhere else gives the same bytes; changing a
source's text or name changes the sources digest.

Usage: reproducible.py --pave build/pave --repo examples"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import finish_failures, parse_pave_args  # noqa: E402

NOW = "2026-11-27T00:00:00Z"


def main():
    args = parse_pave_args(("--repo", {"required": True, "help": "a policy repository to build"}))
    pave = os.path.abspath(args.pave)
    tmp = tempfile.mkdtemp()
    failures = []

    def build(path_args, cwd, out_name):
        out = os.path.join(tmp, out_name)
        p = subprocess.run([pave, "build", *path_args, "--no-analyze", "--now", NOW, "-o", out], cwd=cwd,
                           capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            failures.append(f"{out_name}: pave build exited {p.returncode}: {p.stderr[:400]}")
            return None
        with open(out, "rb") as f:
            return f.read()

    def sources_digest(bundle_path):
        p = subprocess.run([pave, "inspect", bundle_path], capture_output=True, text=True, timeout=60)
        for line in p.stdout.splitlines():
            if line.startswith("sources:"):
                return line.split()[1]
        failures.append(f"inspect {bundle_path}: no sources line")
        return None

    # Two copies of the repository under different parents, both named "repo".
    first = os.path.join(tmp, "a", "repo")
    second = os.path.join(tmp, "b", "deeper", "repo")
    shutil.copytree(args.repo, first)
    shutil.copytree(args.repo, second)

    reference = build(["repo"], os.path.dirname(first), "relative.pvb")
    variants = {
        "absolute": build([first], "/", "absolute.pvb"),
        "trailing slash": build(["./repo/"], os.path.dirname(first), "slash.pvb"),
        "from inside, '.'": build(["."], first, "dot.pvb"),
        "from inside, no path": build([], first, "nopath.pvb"),
        "through '..'": build([os.path.join(first, "policies", "..")], tmp, "dotdot.pvb"),
        "another copy": build([second], tmp, "copy.pvb"),
    }
    if reference is not None:
        for name, data in variants.items():
            if data is not None and data != reference:
                failures.append(f"{name}: the bundle differs from the one built as 'repo' from its parent")

    # The digest covers each source's text and its path within the repository.
    policies = os.path.join(second, "policies")
    victim = sorted(f for f in os.listdir(policies) if f.endswith(".pave"))[0]
    with open(os.path.join(policies, victim), "a") as f:
        f.write("\n// a comment changes the sources, not the rules\n")
    build([second], tmp, "edited.pvb")
    os.rename(os.path.join(policies, victim), os.path.join(policies, "0" + victim))  # still the first file
    build([second], tmp, "renamed.pvb")
    digests = {n: sources_digest(os.path.join(tmp, n)) for n in ("relative.pvb", "edited.pvb", "renamed.pvb")}
    if None not in digests.values() and len(set(digests.values())) != 3:
        failures.append(f"sources digests of the original, edited and renamed repository are not all different: "
                        f"{digests}")

    shutil.rmtree(tmp)
    return finish_failures(failures, len(variants) + 1)


if __name__ == "__main__":
    sys.exit(main())
