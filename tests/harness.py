"""What the Python test drivers share: a pass/fail tally that prints `N passed, M failed`
(the line ctest logs show) and gives the exit code, and the table-driven command-line
cases of tests/cli (run `pave` with arguments, check the exit code and the output)."""
import subprocess


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
