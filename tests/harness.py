"""What the Python test drivers share: a pass/fail tally that prints `N passed, M failed`
(the line ctest logs show) and gives the exit code, and the table-driven command-line
cases of tests/cli (run `pave` with arguments, check the exit code and the output), the
`--pave` argument and a scratch folder."""
import argparse
import os
import subprocess
import tempfile


def parse_pave_args(*extra):
    """The driver's arguments: `--pave` (the binary under test, required) and `extra`, a list
    of (flag, add_argument keywords) pairs."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--pave", required=True)
    for flag, kw in extra:
        ap.add_argument(flag, **kw)
    return ap.parse_args()


class Scratch:
    """A temporary folder for a driver's files."""

    def __init__(self):
        self.dir = tempfile.mkdtemp()

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, data):
        """Writes `data` (text or bytes) to `name` in the folder, making its folders; returns its path."""
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return path


def finish_failures(failures, checks):
    """Prints each of `failures` (of `checks` checks) and the `N passed, M failed` line;
    returns the exit code."""
    for f in failures:
        print("FAIL", f)
    print(f"{checks - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def add(self, name, problems, output=None):
        """One case: passed when `problems` is empty; otherwise each problem is printed
        (on one line with the start of `output` when it is given)."""
        if not problems:
            self.passed += 1
            return
        self.failed += 1
        if output is not None:
            print(f"FAIL {name}: {'; '.join(problems)}\n  {output[:400]}")
        else:
            for p in problems:
                print(f"FAIL {name}: {p}")

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


def run_cli_cases(pave, cases, tally=None):
    """Runs `(name, argv, expected exit, texts, [options])` cases: `texts` (a string or a
    list) must appear in stdout + stderr; options: `absent` (texts that must not), `stdin`
    (bytes), `lines` (the number of stdout lines). A crash or `internal error` fails."""
    tally = tally or Tally()
    for name, argv, want, text, *extra in cases:
        extra = extra[0] if extra else {}
        try:
            p = subprocess.run([pave] + argv, capture_output=True, timeout=60, input=extra.get("stdin", b""))
        except subprocess.TimeoutExpired:
            tally.add(name, ["timed out"])
            continue
        out = (p.stdout + p.stderr).decode("utf-8", "replace")
        problems = []
        if p.returncode != want:
            problems.append(f"exit {p.returncode}, expected {want}")
        for t in ([text] if isinstance(text, str) else text or []):
            if t and t not in out:
                problems.append(f"output lacks {t!r}")
        for t in extra.get("absent", []):
            if t in out:
                problems.append(f"output has {t!r}")
        lines = p.stdout.count(b"\n")
        if "lines" in extra and lines != extra["lines"]:
            problems.append(f"{lines} output lines, expected {extra['lines']}")
        if "internal error" in out or p.returncode < 0:
            problems.append("crashed")
        tally.add(name, problems, out)
    return tally
