#!/usr/bin/env python3
"""Editor-facing timings (a benchmark, not a test; goals from issue #5).

    bench/lsp_bench.py [--pave build/pave] [--rules 5000] [--fmt-rules 10000] [--edits 20]

1. `pave lsp` on a generated repository of --rules rules: the time from sending a
   `textDocument/didChange` (an edit that adds or removes a type error in one rule) to
   receiving that document's `textDocument/publishDiagnostics`. Goal: < 100 ms.
2. `pave fmt` (rewrite in place) and `pave fmt --check` on a generated repository of
   --fmt-rules rules. Goal: < 1 s.
Prints median, p90 and max; best of three for the formatter.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


class Client:
    def __init__(self, pave):
        self.proc = subprocess.Popen([pave, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.next_id = 0

    def send(self, method, params, request=False):
        msg = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.next_id += 1
            msg["id"] = self.next_id
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.proc.stdin.flush()
        return msg.get("id")

    def recv(self):
        length = 0
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the server closed its output")
            if line in (b"\r\n", b"\n"):
                break
            name, value = line.decode().split(":", 1)
            if name.strip().lower() == "content-length":
                length = int(value)
        return json.loads(self.proc.stdout.read(length))

    def wait(self, pred):
        while True:
            m = self.recv()
            if pred(m):
                return m

    def close(self):
        self.send("shutdown", None, request=True)
        self.send("exit", None)
        self.proc.wait(timeout=10)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]


def lsp_bench(pave, rules, edits, tmp):
    repo = os.path.join(tmp, f"repo{rules}")
    subprocess.run([sys.executable, os.path.join(HERE, "gen_repo.py"), repo, "--rules", str(rules)], check=True)
    path = os.path.join(repo, "rules_000.pave")
    uri = "file://" + path
    text = open(path).read()
    lines = text.split("\n")
    line = next(i for i, l in enumerate(lines) if "request.duration <= " in l)
    col = lines[line].index("h", lines[line].index("request.duration <= "))  # the unit of `<= 4h`
    client = Client(pave)
    client.send("initialize", {"rootUri": "file://" + repo, "capabilities": {}}, request=True)
    client.wait(lambda m: m.get("id") == 1)
    client.send("initialized", {})
    client.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "pave", "version": 1, "text": text}})
    is_mine = lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
    client.wait(is_mine)
    times = []
    for k in range(edits):
        # Odd edits delete the duration unit (`<= 4`: a type error), even edits restore it.
        if k % 2 == 0:
            change = {"range": {"start": {"line": line, "character": col}, "end": {"line": line, "character": col + 1}},
                      "text": ""}
        else:
            change = {"range": {"start": {"line": line, "character": col}, "end": {"line": line, "character": col}},
                      "text": "h"}
        start = time.perf_counter()
        client.send("textDocument/didChange", {"textDocument": {"uri": uri, "version": k + 2}, "contentChanges": [change]})
        m = client.wait(is_mine)
        times.append((time.perf_counter() - start) * 1000)
        expect_error = k % 2 == 0
        if bool(m["params"]["diagnostics"]) != expect_error:
            raise RuntimeError(f"edit {k}: unexpected diagnostics {m['params']['diagnostics']}")
    peak = "?"
    try:  # the server's peak resident memory (Linux)
        with open(f"/proc/{client.proc.pid}/status") as status:
            peak = next(l.split()[1] for l in status if l.startswith("VmHWM:"))
            peak = f"{int(peak) // 1024} MiB"
    except (OSError, StopIteration):
        pass
    client.close()
    print(f"lsp didChange → publishDiagnostics, {rules} rules, {edits} edits: median "
          f"{statistics.median(times):.1f} ms, p90 {percentile(times, 0.9):.1f} ms, max {max(times):.1f} ms; "
          f"server peak memory {peak}")


def fmt_bench(pave, rules, tmp):
    repo = os.path.join(tmp, f"fmt{rules}")
    subprocess.run([sys.executable, os.path.join(HERE, "gen_repo.py"), repo, "--rules", str(rules)], check=True)
    results = {}
    for label, args in (("fmt (rewrite)", []), ("fmt --check", ["--check"])):
        best = None
        for _ in range(3):
            work = repo + "-work"
            shutil.rmtree(work, ignore_errors=True)
            shutil.copytree(repo, work)
            start = time.perf_counter()
            r = subprocess.run([pave, "fmt", *args, work], capture_output=True)
            elapsed = time.perf_counter() - start
            if r.returncode not in (0, 1):
                raise RuntimeError(r.stderr.decode())
            best = elapsed if best is None else min(best, elapsed)
        results[label] = best
    size = sum(os.path.getsize(os.path.join(repo, f)) for f in os.listdir(repo))
    for label, secs in results.items():
        print(f"pave {label}, {rules} rules ({size // 1024} KiB): {secs * 1000:.0f} ms (best of 3)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pave", default=os.path.join(HERE, "..", "build", "pave"))
    ap.add_argument("--rules", type=int, default=5000)
    ap.add_argument("--fmt-rules", type=int, default=10000)
    ap.add_argument("--edits", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lsp_bench(args.pave, args.rules, args.edits, tmp)
        fmt_bench(args.pave, args.fmt_rules, tmp)


if __name__ == "__main__":
    main()
