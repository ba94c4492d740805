#!/usr/bin/env python3
"""Golden bytecode tests: each tests/bytecode/NAME.pave is built into a bundle and the
functions part of `pave inspect --disasm` is compared with NAME.expected.

    run.py --pave build/pave [--update] [--coverage] [DIR]

--update rewrites the .expected files from the current output (review with `git diff`).
--coverage also fails when an opcode of runtime/include/pave/opcodes.def appears in no
expected file and is not listed in UNIT_TESTED below.
"""
import argparse
import difflib
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
OPCODES_DEF = os.path.join(HERE, "..", "..", "runtime", "include", "pave", "opcodes.def")

# Opcodes the compiler cannot produce, covered by builder-based unit tests instead
# (opcode -> test name). Empty: every opcode has a policy today.
UNIT_TESTED = {}

NOW = "2026-11-27"


def functions_part(disasm):
    lines = disasm.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("function "):
            return "\n".join(lines[i:]) + "\n"
    return ""


def disassemble(pave, source, tmp):
    bundle = os.path.join(tmp, os.path.basename(source) + ".pvb")
    build = subprocess.run([pave, "build", source, "--no-analyze", "--now", NOW, "-o", bundle],
                           capture_output=True, text=True)
    if build.returncode != 0:
        return None, build.stderr
    out = subprocess.run([pave, "inspect", "--disasm", bundle], capture_output=True, text=True)
    if out.returncode != 0:
        return None, out.stderr
    return functions_part(out.stdout), ""


def opcodes():
    names = []
    with open(OPCODES_DEF) as f:
        for line in f:
            m = re.match(r"PAVE_OP\((\w+)", line)
            if m:
                names.append(m.group(1))
    return names


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pave", required=True)
    ap.add_argument("--update", action="store_true")
    ap.add_argument("--coverage", action="store_true")
    ap.add_argument("dir", nargs="?", default=HERE)
    args = ap.parse_args()

    sources = sorted(f for f in os.listdir(args.dir) if f.endswith(".pave"))
    failures = 0
    used = set()
    with tempfile.TemporaryDirectory() as tmp:
        for name in sources:
            source = os.path.join(args.dir, name)
            expected_path = source[: -len(".pave")] + ".expected"
            actual, error = disassemble(args.pave, source, tmp)
            if actual is None:
                print(f"FAIL {name}: does not build\n{error}")
                failures += 1
                continue
            for line in actual.splitlines():
                m = re.match(r"\s+\d{4}\s+([A-Z_]+)", line)
                if m:
                    used.add(m.group(1))
            if args.update:
                with open(expected_path, "w") as f:
                    f.write(actual)
                continue
            expected = open(expected_path).read() if os.path.exists(expected_path) else ""
            if actual != expected:
                failures += 1
                print(f"FAIL {name}")
                sys.stdout.writelines(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                                           os.path.basename(expected_path), "actual"))
    if args.coverage:
        missing = [op for op in opcodes() if op not in used and op not in UNIT_TESTED]
        for op in missing:
            print(f"FAIL coverage: opcode {op} appears in no tests/bytecode/*.expected file "
                  f"(add a policy that produces it, or a unit test listed in UNIT_TESTED)")
        failures += len(missing)
        for op, test in sorted(UNIT_TESTED.items()):
            print(f"note: {op} is covered by the unit test {test}")
    print(f"{len(sources)} bytecode files, {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
