#!/usr/bin/env python3
"""`pave serve` under load, side by side with OPA's own server in the same run.

    serve_bench.py --pave build/pave [--opa PATH] [--rules 1000] [--seconds 10] [--soak 0]

On the shared generator's repository (/work/shared/peers/gen_corpus.py, translated to Rego
by gen_rego.py), with `wrk` from Debian on the same machine, keep-alive:
  1. the maximum decisions/s of `POST /v1/decide` (Pave) and of
     `POST /v1/data/pave/bench/result` (OPA, `opa run --server`), each input of the corpus
     in turn;
  2. p50/p99 latency of each at 50% of its own maximum (wrk's `delay()` paces each
     connection);
  3. `/v1/decide/batch` decisions/s (1,000 inputs per request);
  4. `/v1/decide` with the file decision log on, against without;
  5. with --soak S: S seconds at 50% load, RSS before and after, errors.
Prints the figures and the ratios the goals name (not a test: nothing is asserted).
Both servers must agree on the decision of every input before anything is timed.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.join(HERE, "..", "..", "shared", "peers")

LUA = r'''
local bodies = {}
local path = "%(path)s"
local i = 0
for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line:gsub("\1", "\n") end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, path, nil, bodies[i])
end
local pause = %(delay_ms)s
if pause > 0 then
  delay = function() return pause end
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%%d errors=%%d status=%%d duration_us=%%d p50_us=%%d p99_us=%%d\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.duration, latency:percentile(50), latency:percentile(99)))
end
'''


def wrk(url, path, bodies, seconds, conns, threads=2, delay_ms=0):
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write(LUA % {"path": path, "bodies": bodies, "delay_ms": delay_ms})
    script.close()
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{seconds}s", "--timeout", "5s", "-s",
                          script.name, url], capture_output=True, text=True).stdout
    os.unlink(script.name)
    m = re.search(r"RESULT requests=(\d+) errors=(\d+) status=(\d+) duration_us=(\d+) p50_us=(\d+) p99_us=(\d+)", out)
    if not m:
        raise RuntimeError("wrk printed no result:\n" + out)
    req, err, status, dur, p50, p99 = map(int, m.groups())
    return {"rps": req / (dur / 1e6), "errors": err + status, "p50_us": p50, "p99_us": p99, "requests": req}


def wait_http(url, deadline=60):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pave", required=True)
    ap.add_argument("--opa", default=shutil.which("opa") or os.path.expanduser("~/go/bin/opa"))
    ap.add_argument("--rules", type=int, default=1000)
    ap.add_argument("--inputs", type=int, default=2000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--soak", type=int, default=0)
    args = ap.parse_args()
    pave = os.path.abspath(args.pave)
    work = tempfile.mkdtemp(prefix="pave-serve-bench-")
    corpus = os.path.join(work, "corpus")
    subprocess.run([sys.executable, os.path.join(PEERS, "gen_corpus.py"), corpus, "--rules", str(args.rules),
                    "--inputs", str(args.inputs)], check=True, capture_output=True)
    rego = os.path.join(work, "policy.rego")
    subprocess.run([sys.executable, os.path.join(PEERS, "gen_rego.py"), corpus, rego], check=True, capture_output=True)
    bundle = os.path.join(work, "b.pvb")
    subprocess.run([pave, "build", corpus, "-o", bundle, "--no-analyze"], check=True, capture_output=True)
    inputs = [l for l in open(os.path.join(corpus, "inputs.jsonl")) if l.strip()]
    pave_bodies = os.path.join(work, "pave.jsonl")
    with open(pave_bodies, "w") as f:
        f.writelines(l if l.endswith("\n") else l + "\n" for l in inputs)
    opa_bodies = os.path.join(work, "opa.jsonl")
    with open(opa_bodies, "w") as f:
        for l in inputs:
            f.write(json.dumps({"input": json.loads(l)}) + "\n")
    batch_bodies = os.path.join(work, "batch.jsonl")
    with open(batch_bodies, "w") as f:  # one line per request: 1,000 inputs, their newlines as \x01 (Lua restores them)
        for k in range(0, len(inputs) - 999, 1000):
            f.write("".join(l if l.endswith("\n") else l + "\n" for l in inputs[k:k + 1000]).replace("\n", "\x01") + "\n")

    procs = []

    def start(cmd, url, **kw):
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
        procs.append(p)
        wait_http(url)
        return p

    try:
        pave_url = "http://127.0.0.1:18181"
        pv = start([pave, "serve", "--bundle", bundle, "--allow-unsigned", "--listen", "127.0.0.1:18181",
                    "--max-body", "16MiB"], pave_url + "/readyz")
        have_opa = args.opa and os.path.exists(args.opa)
        opa_url = "http://127.0.0.1:18182"
        if have_opa:
            start([args.opa, "run", "--server", "--addr", "127.0.0.1:18182", "--log-level", "error", rego],
                  opa_url + "/health")
            # Agreement first: the same decision class for every input.
            disagree = 0
            for l in inputs[:200]:
                a = json.loads(urllib.request.urlopen(urllib.request.Request(pave_url + "/v1/decide", l.encode())).read())
                b = json.loads(urllib.request.urlopen(urllib.request.Request(
                    opa_url + "/v1/data/pave/bench/result", json.dumps({"input": json.loads(l)}).encode())).read())
                disagree += a["decision"] != b.get("result", {}).get("decision")
            print(f"agreement: {200 - disagree}/200 inputs decided alike by both servers")
        results = {}
        results["pave"] = wrk(pave_url, "/v1/decide", pave_bodies, args.seconds, args.conns)
        if have_opa:
            results["opa"] = wrk(opa_url, "/v1/data/pave/bench/result", opa_bodies, args.seconds, args.conns)
        for name in list(results):
            # 50% of the maximum: each connection pauses so that conns/(latency+pause) ≈ half.
            r = results[name]
            pause = max(1, int(round(args.conns / (r["rps"] * 0.5) * 1000 - r["p50_us"] / 1000)))
            url, path, bodies = ((pave_url, "/v1/decide", pave_bodies) if name == "pave"
                                 else (opa_url, "/v1/data/pave/bench/result", opa_bodies))
            results[name + "@50%"] = wrk(url, path, bodies, args.seconds, args.conns, delay_ms=pause)
        for k, r in results.items():
            print(f"{k:10s} {r['rps']:12,.0f} req/s   p50 {r['p50_us']:6d} us   p99 {r['p99_us']:6d} us   errors {r['errors']}")
        if have_opa:
            print(f"ratio pave/opa decisions/s: {results['pave']['rps'] / results['opa']['rps']:.1f}x (goal >= 5x); "
                  f"p99 at 50% load: pave {results['pave@50%']['p99_us']} us, opa {results['opa@50%']['p99_us']} us")
        else:
            print("opa: not found (go install github.com/open-policy-agent/opa@v1.22.4); no OPA comparison")
        # Batch: 1,000 decisions per request.
        b = wrk(pave_url, "/v1/decide/batch", batch_bodies, args.seconds, 4)
        print(f"batch      {b['rps'] * 1000:12,.0f} decisions/s ({b['rps']:.0f} requests of 1,000)   errors {b['errors']}"
              " (goal >= 1,000,000)")
        pv.send_signal(signal.SIGTERM)
        pv.wait()
        log = os.path.join(work, "decisions.jsonl")
        pv = start([pave, "serve", "--bundle", bundle, "--allow-unsigned", "--listen", "127.0.0.1:18181", "--log",
                    "file:" + log, "--log-rotate", "256MiB", "--log-keep", "1"], pave_url + "/readyz")
        with_log = wrk(pave_url, "/v1/decide", pave_bodies, args.seconds, args.conns)
        print(f"with log   {with_log['rps']:12,.0f} req/s   {with_log['rps'] / results['pave']['rps']:.0%} of without"
              f" (goal >= 70%)   errors {with_log['errors']}")
        if args.soak:
            r = results["pave"]
            pause = max(1, int(round(args.conns / (r["rps"] * 0.5) * 1000 - r["p50_us"] / 1000)))
            wrk(pave_url, "/v1/decide", pave_bodies, 10, args.conns, delay_ms=pause)  # warm up
            # RSS sampled while the load runs (the first sample a minute in, the last just
            # before the load ends), so that neither warm-up nor teardown is counted.
            import threading
            samples = []
            done = threading.Event()

            def sample():
                while not done.wait(30):
                    samples.append(rss_kb(pv.pid))

            t = threading.Thread(target=sample)
            t.start()
            s = wrk(pave_url, "/v1/decide", pave_bodies, args.soak, args.conns, delay_ms=pause)
            done.set()
            t.join()
            before, after = samples[1] if len(samples) > 2 else samples[0], samples[-1]
            print(f"soak {args.soak}s at {s['rps']:,.0f} req/s: RSS {before} -> {after} kB "
                  f"({(after - before) / before:+.1%}, goal < 5%; every 30 s: {samples}), errors {s['errors']}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
