#!/usr/bin/env python3
"""Checks `pave fmt` on real policy repositories.

    run_fmt.py --pave build/pave [--conformance DIR] REPO_ROOT

For every compilation unit (examples/, stdlib/std/, each file of tests/check/, each
conformance case) the unit is copied, formatted in place, and compared with the original:
  - formatting is idempotent: a second `pave fmt --check` finds nothing to change;
  - no formatted line is wider than 100 columns unless a single string literal or a trailing
    comment (the formatter keeps comments as written) makes it so;
  - a file with a syntax error is reported (exit 1) and left byte for byte as it was;
  - `pave check --no-analyze` reports the same diagnostics (code, severity, rule, message);
  - `pave build` + `pave eval` decide every input identically (the conformance cases'
    decision inputs and examples/inputs), and `pave test` reports the same results.
Prints `N passed, M failed` and exits 1 when a unit fails.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import Tally  # noqa: E402

from run_golden import over_wide

NOW = "2026-11-27T00:00:00Z"


def run(cmd, stdin=None):
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True)


def units(root, conformance):
    out = [("examples", os.path.join(root, "examples")), ("stdlib", os.path.join(root, "stdlib", "std"))]
    dirs = set()
    for path in sorted(glob.glob(os.path.join(root, "tests", "check", "**", "*.pave"), recursive=True)):
        # A `.dir` case is one repository (with its pave.toml and data files): copied whole.
        parts = os.path.relpath(path, root).split(os.sep)
        unit = next((i for i, part in enumerate(parts[:-1]) if part.endswith(".dir")), None)
        if unit is not None:
            d = os.path.join(root, *parts[:unit + 1])
            if d not in dirs:
                dirs.add(d)
                out.append((os.path.relpath(d, root), d))
            continue
        out.append((os.path.relpath(path, root), path))
    if conformance and os.path.isdir(conformance):
        for case in sorted(glob.glob(os.path.join(conformance, "**", "case.json"), recursive=True)):
            d = os.path.dirname(case)
            out.append(("conformance/" + os.path.relpath(d, conformance), d))
    return out


def copy_unit(src, dst):
    if os.path.isdir(src):
        shutil.copytree(src, dst)
        return dst
    os.makedirs(dst)
    shutil.copy(src, dst)
    return os.path.join(dst, os.path.basename(src))


def pave_files(path):
    if os.path.isfile(path):
        return [path]
    return sorted(glob.glob(os.path.join(path, "**", "*.pave"), recursive=True))


def diagnostics(pave, path):
    r = run([pave, "check", path, "--no-analyze", "--format", "json", "--now", NOW])
    try:
        diags = json.loads(r.stdout)["diagnostics"]
    except (ValueError, KeyError):
        return ("unreadable", r.returncode, r.stdout + r.stderr)
    return (r.returncode, sorted((d["code"], d["severity"], d.get("rule", ""), d["message"]) for d in diags))


def decision_inputs(src):
    inputs = []
    case = os.path.join(src, "case.json") if os.path.isdir(src) else None
    if case and os.path.exists(case):
        with open(case) as f:
            spec = json.load(f)
        inputs += [json.dumps(d["input"]) if not isinstance(d["input"], str) else d["input"]
                   for d in spec.get("decisions", [])]
    for path in sorted(glob.glob(os.path.join(src, "inputs", "*.json"))):
        with open(path) as f:
            inputs.append(json.dumps(json.load(f)))
    return inputs


def decisions(pave, path, inputs, tmp):
    bundle = os.path.join(tmp, "b.pvb")
    r = run([pave, "build", path, "-o", bundle, "--now", NOW, "--no-analyze"])
    if r.returncode != 0:
        return ("build failed", r.returncode)
    r = run([pave, "eval", bundle, "-", "--explain"], stdin="\n".join(inputs) + "\n")
    out = []
    for line in r.stdout.splitlines():
        d = json.loads(line)
        d.pop("bundle", None)
        for t in d.get("trace", []):
            t.get("failed", {}).pop("line", None)  # formatting may move a conjunct
        out.append(d)
    return out


def tests(pave, path):
    r = run([pave, "test", path, "--format", "json", "--now", NOW])
    try:
        return (r.returncode, json.loads(r.stdout).get("tests"))
    except ValueError:
        return (r.returncode, r.stdout)


def check_unit(pave, name, src, tmp):
    problems = []
    original = copy_unit(src, os.path.join(tmp, "original"))
    formatted = copy_unit(src, os.path.join(tmp, "formatted"))
    before = {f: open(f, "rb").read() for f in pave_files(formatted)}
    r = run([pave, "fmt", formatted])
    broken = r.returncode != 0
    if r.returncode not in (0, 1):
        return [f"pave fmt exited {r.returncode}: {r.stderr.strip()}"]
    for f, data in before.items():
        now = open(f, "rb").read()
        syntax_error = run([pave, "fmt", "--check", "-"], stdin=data.decode()).returncode == 1 and \
            b"syntax" in run([pave, "fmt", "-"], stdin=data.decode()).stderr.encode()
        if syntax_error and now != data:
            problems.append(f"{os.path.relpath(f, formatted)}: has a syntax error but was changed")
    if broken and "syntax" not in r.stderr:
        problems.append(f"pave fmt exited 1 without a syntax error: {r.stderr.strip()}")
    for f in before:
        for problem in over_wide(open(f, encoding="utf-8").read()):
            problems.append(f"{os.path.relpath(f, formatted)}: {problem}")
    again = run([pave, "fmt", "--check", formatted])
    if again.stdout.strip():
        problems.append("not idempotent: " + again.stdout.strip().replace("\n", ", "))
    if diagnostics(pave, original) != diagnostics(pave, formatted):
        problems.append("diagnostics differ after formatting")
    inputs = decision_inputs(src)
    if inputs and decisions(pave, original, inputs, tmp) != decisions(pave, formatted, inputs, tmp):
        problems.append("decisions differ after formatting")
    if os.path.isdir(src) and glob.glob(os.path.join(src, "**", "*test*.pave"), recursive=True):
        if tests(pave, original) != tests(pave, formatted):
            problems.append("`pave test` results differ after formatting")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pave", required=True)
    ap.add_argument("--conformance", default=None, help="the conformance suite's cases folder")
    ap.add_argument("root", help="the repository root")
    args = ap.parse_args()
    tally = Tally()
    for name, src in units(args.root, args.conformance):
        with tempfile.TemporaryDirectory() as tmp:
            tally.add(name, check_unit(args.pave, name, src, tmp))
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())
