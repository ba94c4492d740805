#!/usr/bin/env python3
"""Follows docs/guide.md as a new user would: every ```sh block runs, in order, in one
shell in an empty folder, and every Pave or TOML snippet is written to the file the guide
names. An invisible comment before a snippet says which file:

    <!-- guide: file policies/cloud.pave -->     the snippet is that file
    <!-- guide: append policies/cloud.pave -->   the snippet is added to it (after a blank line)
    <!-- guide: decision -->                     the ```json block is what the last
                                                 `pave eval` of the guide prints

Every command must succeed (the shell runs with `set -e`; a `fatal:` or `command not
found` on standard error fails too), and the decision the guide
shows must be the one `pave eval` makes: the same decision, rules, deny rules,
exceptions, reasons, and for each trace entry shown, whether it matched and the failed
condition's line and text. Usage: run_guide.py --pave build/pave [GUIDE.md]
"""
import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MARKER = re.compile(r"^<!-- guide: (file|append) (\S+) -->$|^<!-- guide: (decision) -->$")


def steps(text):
    """(kind, argument, body, line) for each block the guide runs or writes."""
    lines = text.split("\n")
    out, marker, i = [], None, 0
    while i < len(lines):
        line = lines[i]
        m = MARKER.match(line.strip())
        if m:
            marker = (m.group(1) or m.group(3), m.group(2))
            i += 1
            continue
        if line.startswith("```"):
            info = line[3:].strip().split()
            start = i + 1
            end = start
            while end < len(lines) and not lines[end].startswith("```"):
                end += 1
            body = "\n".join(lines[start:end]) + "\n"
            if marker:
                out.append((marker[0], marker[1], body, start))
            elif info and info[0] == "sh":
                out.append(("sh", None, body, start))
            marker = None
            i = end + 1
            continue
        if line.strip():
            marker = None if not line.startswith("<!--") else marker
        i += 1
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pave", required=True)
    ap.add_argument("guide", nargs="?", default=os.path.join(ROOT, "docs", "guide.md"))
    args = ap.parse_args()
    pave = os.path.abspath(args.pave)
    if not shutil.which("openssl"):
        print("skipped: the guide makes its signing key with the openssl command")
        return 77
    with open(args.guide, encoding="utf-8") as f:
        plan = steps(f.read())
    name = os.path.relpath(args.guide, ROOT)
    script = ["set -euo pipefail"]
    expected = None
    for kind, arg, body, line in plan:
        script.append(f"echo '== {name}:{line}' >&2")
        if kind == "sh":
            script.append(body)
        elif kind in ("file", "append"):
            q = shlex.quote(arg)
            script.append(f"mkdir -p \"$(dirname {q})\"")
            if kind == "append":
                script.append(f"[ -s {q} ] && echo >> {q}")
            script.append(f"cat {'>>' if kind == 'append' else '>'} {q} <<'GUIDE_SNIPPET_EOF'\n{body}GUIDE_SNIPPET_EOF")
        elif kind == "decision":
            expected = json.loads(body)
    script.append('pwd > "$GUIDE_FINAL_DIR"')
    with tempfile.TemporaryDirectory() as tmp:
        bindir = os.path.join(tmp, "bin")
        os.makedirs(bindir)
        os.symlink(pave, os.path.join(bindir, "pave"))
        work = os.path.join(tmp, "work")
        os.makedirs(work)
        final = os.path.join(tmp, "final-dir")
        env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""), GUIDE_FINAL_DIR=final,
                   PAVE_CACHE_DIR=os.path.join(tmp, "cache"))
        r = subprocess.run(["bash", "-c", "\n".join(script)], cwd=work, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stdout[-4000:])
            print(r.stderr[-4000:])
            print(f"FAIL: a command of {name} failed (exit {r.returncode}); the last `==` line above is its block")
            return 1
        problems = []
        # A failing command substitution (`$(git rev-parse HEAD)` outside a repository)
        # does not stop the shell; its message does show.
        for line in r.stderr.splitlines():
            if re.search(r"^fatal:|command not found|No such file or directory", line):
                problems.append(f"a command complained: {line}")
        if expected is None:
            problems.append("no `<!-- guide: decision -->` block")
        else:
            here = open(final).read().strip()
            evals = [b for k, _, b, _ in plan if k == "sh" and "pave eval" in b]
            command = [l for l in evals[-1].splitlines() if l.startswith("pave eval")][-1]
            d = subprocess.run(["bash", "-c", command], cwd=here, env=env, capture_output=True, text=True)
            try:
                actual = json.loads(d.stdout)
            except ValueError:
                actual = {}
                problems.append(f"`{command}` printed no decision: {d.stdout}{d.stderr}")
            for key in ("decision", "request_type", "rules", "deny_rules", "exceptions", "reasons", "errors"):
                if key in expected and expected[key] != actual.get(key):
                    problems.append(f"{key}: the guide shows {expected[key]!r}, pave gives {actual.get(key)!r}")
            trace = {t["rule"]: t for t in actual.get("trace", [])}
            for t in expected.get("trace", []):
                got = trace.get(t["rule"])
                if got is None:
                    problems.append(f"trace: no entry for {t['rule']}")
                    continue
                if t.get("matched") != got.get("matched"):
                    problems.append(f"trace {t['rule']}: matched {got.get('matched')}, the guide shows {t.get('matched')}")
                for key in ("line", "text"):
                    want = t.get("failed", {}).get(key)
                    have = got.get("failed", {}).get(key)
                    if want != have:
                        problems.append(f"trace {t['rule']}: failed {key} is {have!r}, the guide shows {want!r}")
        for p in problems:
            print(f"FAIL: {p}")
        if problems:
            return 1
    print(f"{name}: {len(plan)} steps followed, the decision matches")
    return 0


if __name__ == "__main__":
    sys.exit(main())
