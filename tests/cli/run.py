#!/usr/bin/env python3
"""Command-line behaviour on bad input and misuse: exit codes and clear messages, never a
crash or a hang. Usage: run.py --pave build/pave"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import Scratch, parse_pave_args, run_cli_cases  # noqa: E402

UNGRANTED = 'principal Human { email: String }\nrequest Role { name: String }\n'
GOOD = 'principal Human { email: String }\nrequest Role { name: String }\nallow a on Role when request.name == "x";\n'


def main():
    args = parse_pave_args()
    scratch = Scratch()
    tmp, write = scratch.dir, scratch.write

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
        ("bad expiring window", ["check", os.path.dirname(write("toml3/p.pave", GOOD))], 2, "expiring-exception-window"),
        ("directory as bundle", ["eval", tmp], 2, "directory"),
        ("garbage bundle", ["eval", write("b.pvb", b"PAVB" + b"\0" * 64)], 2, "pave: error"),
        ("build without -o", ["build", write("ok4/p.pave", GOOD)], 2, "--output"),
    ]
    # pave test: inputs type-checked, failure details, --run, a file inside a repository.
    rules = ('namespace acme;\nprincipal Human { email: String }\nrequest Role for Human { name: String }\n'
             'allow named on Role when request.name != "";\n'
             'deny admin on Role when request.name == "admin" because "admin is never self-service";\n')
    write("t1/policy.pave", rules + 'test incomplete { request Role { } principal Human { email: "a" }\n'
          '  context { time: 2026-11-27T10:00:00Z } expect allow; }\n')
    write("t2/policy.pave", rules + 'test admin_allowed { request Role { name: "admin" } principal Human { email: "a" }\n'
          '  context { time: 2026-11-27T10:00:00Z } expect allow; }\n'
          'test viewer_allowed { request Role { name: "viewer" } principal Human { email: "a" }\n'
          '  context { time: 2026-11-27T10:00:00Z } expect allow; }\n')
    write("t3/pave.toml", '[bundle]\nname = "t3"\n')
    # JUnit output escapes XML's special characters in messages (and quotes in the reasons).
    write("junit/policy.pave", rules.replace("admin is never self-service", "admin <is> never & self-service") +
          'test admin_allowed { request Role { name: "admin" } principal Human { email: "a" }\n'
          '  context { time: 2026-11-27T10:00:00Z } expect allow; }\n')
    write("t3/policies/policy.pave", rules)
    one = write("t3/tests/one_test.pave", 'namespace acme;\ntest viewer { request Role { name: "viewer" }\n'
                '  principal Human { email: "a" } context { time: 2026-11-27T10:00:00Z } expect allow by named; }\n')
    write("t3/tests/other_test.pave", 'namespace acme;\ntest admin_is_denied { request Role { name: "admin" }\n'
          '  principal Human { email: "a" } context { time: 2026-11-27T10:00:00Z } expect deny by admin; }\n')
    # An address in the IPv4-compatible form (`::1.2.3.4`): the expected grant and the decision
    # print it the same way (one formatter, pave/literals.h).
    write("t4/policy.pave", 'namespace acme;\nprincipal Svc { name: String }\n'
          'request Conn for Svc { addr: Ip, grant peers: Set<Ip> = [] merge union }\n'
          'allow peer on Conn when request.addr == ip("::1.2.3.4") grant peers = [ip("::1.2.3.4"), ip("10.0.0.1")];\n'
          'test compat_address { request Conn { addr: ip("::1.2.3.4") } principal Svc { name: "a" }\n'
          '  context { time: 2026-11-27T10:00:00Z } expect allow by peer;\n'
          '  expect grant peers == [ip("::1.2.3.4"), ip("10.0.0.1")]; }\n')
    # pave report controls: a dead rule does not cover its control; exceptions are listed.
    write("rc/policy.pave", 'namespace acme;\nprincipal Human { email: String }\nrequest Role for Human { name: String }\n'
          'allow any_name on Role when request.name != "";\n'
          '@controls(std.controls.OwaspNhi.NHI3)\nallow never on Role when request.name == "a" and request.name == "b";\n'
          '@controls(std.controls.OwaspNhi.NHI7)\ndeny long on Role when request.name == "long";\n'
          'exception keep lifts long until 2027-06-01 owner "team-a" ticket "T-1" when request.name == "long";\n')
    # pave eval on JSON Lines: CRLF, blank lines, a line that is not JSON, a line over the
    # 1 MiB block, a last line without a newline; one decision per non-blank line.
    line = b'{"type": "Role", "principal": {"type": "Human", "email": "a"}, "request": {"name": "x"}, "context": {"time": "2026-11-27T10:00:00Z"}}'
    long_line = line.replace(b'"email": "a"', b'"email": "' + b"a" * 3_000_000 + b'"')
    bundle = os.path.join(tmp, "t3.pvb")
    stream = line + b"\r\n\n   \r\n{not json\n" + long_line + b"\n" + line
    cases += [
        ("unknown command lists the commands", ["watch"], 2, ["unknown command `watch`", "check, build, test"]),
        ("test input missing an attribute", ["test", os.path.join(tmp, "t1")], 1,
         ["error[type-mismatch]", "lacks the required attribute `name`"]),
        ("failing test shows the decision", ["test", os.path.join(tmp, "t2")], 1,
         ["FAIL acme.admin_allowed: expected allow, got deny", 'deny_rules: ["acme.admin"]',
          'reasons: ["admin is never self-service"]']),
        ("test --run", ["test", os.path.join(tmp, "t2"), "--run", "^acme\\.viewer"], 0,
         ["pass acme.viewer_allowed", "1 passed, 0 failed"], {"absent": ["admin_allowed"]}),
        ("test --run, bad expression", ["test", os.path.join(tmp, "t2"), "--run", "(("], 2, "--run"),
        ("junit output escapes the failure message", ["test", os.path.join(tmp, "junit"), "--format", "junit"], 1,
         ['<failure message="expected allow, got deny; deny_rules: [&quot;acme.admin&quot;]; '
          'reasons: [&quot;admin &lt;is&gt; never &amp; self-service&quot;]"/>']),
        ("test expecting an IPv4-compatible address", ["test", os.path.join(tmp, "t4")], 0,
         ["pass acme.compat_address", "1 passed, 0 failed"]),
        ("test one file of a repository", ["test", one], 0, ["pass acme.viewer", "1 passed, 0 failed"],
         {"absent": ["acme.admin"]}),
        ("report controls", ["report", "controls", os.path.join(tmp, "rc"), "--now", "2026-11-27"], 0,
         ["never matches: acme.never (dead-rule", "exception: acme.keep lifts acme.long (owner \"team-a\"",
          "long-lived secrets", "OWASP Top 10", "1 of 23 controls covered"]),
        ("build for eval", ["build", os.path.join(tmp, "t3"), "-o", bundle], 0, ""),
        ("eval JSON Lines", ["eval", bundle, "-"], 0, ['"malformed-json"'], {"stdin": stream, "lines": 4}),
        # A set of 1,100 computed elements needs more registers than a function has.
        ("register limit", ["build", write("regs/p.pave", "principal Human { email: String }\n"
                                           "request Role { n: Int }\nallow big on Role when request.n in ["
                                           + ", ".join(["request.n"] * 1100) + "];\n"),
                            "-o", os.devnull, "--no-analyze"], 2,
         "error: rule `big` needs more registers than a bundle function has"),
    ]
    write("repo/pave.toml", '[lint]\n"no-approved-path" = "error"\n')
    os.makedirs(os.path.join(tmp, "repo", "vendored", ".git"))
    write("toml/pave.toml", "[lint\n")
    write("toml2/pave.toml", '[lint]\n"type-mismatch" = "warning"\n')
    write("toml3/pave.toml", '[lint]\nexpiring-exception-window = "two weeks"\n')
    unreadable = write("locked/p.pave", GOOD)
    os.chmod(unreadable, 0)
    if os.geteuid() != 0:  # root reads anything
        cases.append(("unreadable file", ["check", unreadable], 2, "cannot read"))

    tally = run_cli_cases(args.pave, cases)

    # pave eval in several threads: a stream of many 256 KiB blocks, with the odd lines of
    # the case above spread through it (one over a block long), gives the output of one
    # thread byte for byte, one decision per non-blank line, in input order.
    other = line.replace(b'"name": "x"', b'"name": "admin"')  # denied
    # Another request type (unknown: denied so): lines are decided grouped by request type,
    # and their answers must still come out in input order.
    nope = line.replace(b'"type": "Role"', b'"type": "Nope"')
    parts = []
    for k in range(12_000):
        parts.append(nope if k % 5 == 4 else line if k % 3 else other)
        if k % 2_500 == 7:
            parts += [b"   \r", b"{not json", long_line if k == 5_007 else line + b"\r", b""]
    stream = b"\n".join(parts) + b"\n" + other  # the last line without a newline
    outputs = {}
    for jobs in ("1", "4"):
        p = subprocess.run([args.pave, "eval", bundle, "-", "--jobs", jobs], input=stream, capture_output=True, timeout=120)
        outputs[jobs] = p.stdout
        problems = [] if p.returncode == 0 else [f"exit {p.returncode}: {p.stderr[:300]!r}"]
        want = sum(1 for l in stream.split(b"\n") if l.strip(b" \t\r"))
        got = p.stdout.count(b"\n")
        if got != want:
            problems.append(f"{got} decision lines for {want} non-blank input lines")
        tally.add(f"eval --jobs {jobs}: one decision per line", problems)
    # Each answer is its own line's: an input of each kind gets its kind's decision.
    kinds = {line: b'"decision":"allow"', other: b'"deny_rules":["acme.admin"]', nope: b'"unknown-request-type"',
             b"{not json": b'"malformed-json"'}
    inputs = [l.rstrip(b"\r") for l in stream.split(b"\n") if l.strip(b" \t\r")]
    answers = outputs["1"].split(b"\n")
    misplaced = [i for i, l in enumerate(inputs) if l in kinds and (i >= len(answers) or kinds[l] not in answers[i])]
    tally.add("eval -: each answer is on its input's line (request types interleaved)",
              [f"{len(misplaced)} answers out of place, the first at line {misplaced[0] + 1}"] if misplaced else [])
    decisions = outputs["1"].split(b"\n")
    tally.add("eval --jobs 4: the output of --jobs 1, in input order",
              [] if outputs["4"] == outputs["1"] and len(decisions) > 8 and b'"malformed-json"' in decisions[8] and
              decisions[0] != decisions[1] else ["the outputs differ or are out of order"])
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())
