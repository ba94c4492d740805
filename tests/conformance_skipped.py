#!/usr/bin/env python3
"""The parts of skipped conformance cases that do not contradict the spec.

    conformance_skipped.py --pave build/pave --suite ../shared/conformance --skip tests/conformance-skip.txt

A case in the skip list is skipped whole by the suite's runner. When the reason is only its
`check` (see the list), its decisions and policy tests still say what Pave must do: this
runs them with the runner's own code (`Case.decisions`, `Case.tests`), so that they are not
lost while the case waits. Prints `N passed, M failed`."""
import argparse
import importlib.util
import os
import sys
import tempfile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pave", required=True)
    ap.add_argument("--suite", required=True)
    ap.add_argument("--skip", required=True)
    a = ap.parse_args()
    spec = importlib.util.spec_from_file_location("conformance_run", os.path.join(a.suite, "run.py"))
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    skips = [l.split("#", 1)[0].strip() for l in open(a.skip)]
    skips = [s for s in skips if s]
    cases = []
    for d, _, files in os.walk(os.path.join(a.suite, "cases")):
        if "case.json" in files and any(s in d for s in skips):
            cases.append(d)
    passed = failed = 0
    for d in sorted(cases):
        c = runner.Case(os.path.abspath(a.pave), d, False)
        with tempfile.TemporaryDirectory() as tmp:
            c.tmp = tmp
            for step in (c.decisions, c.tests):
                step()
        if c.failures or not c.checks:
            failed += 1
            for f in c.failures or [f"{c.name}: nothing was checked"]:
                print("FAIL", f)
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not cases else 0


if __name__ == "__main__":
    sys.exit(main())
