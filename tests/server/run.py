#!/usr/bin/env python3
"""`pave serve` end to end (SPEC §10): real server processes on 127.0.0.1 and real HTTP
clients. Every request loop is bounded in count and time.

    run.py --pave build/pave [--conformance DIR] [-k TEXT]

Prints one line per failed check and `N passed, M failed`; exits 1 when a check fails."""
import argparse
import gzip
import hashlib
import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback

NOW = "2026-11-27T00:00:00Z"
POLICY_A = '''namespace demo;
principal Human { email: String }
request Role for Human { name: String, token: String? }
allow read on Role when request.name == "read";
deny root on Role when request.name == "root" because "root is never self-service";
exception waiver lifts root until 2099-01-01 owner "team-a" ticket "SEC-1" when principal.email == "ops@acme.io";
'''
POLICY_B = POLICY_A.replace('allow read on Role when request.name == "read";',
                            'allow read on Role when request.name == "read" or request.name == "write";')


def inp(name, email="a@acme.io", **extra):
    req = {"name": name}
    req.update(extra)
    return {"type": "Role", "principal": {"type": "Human", "email": email}, "request": req,
            "context": {"time": "2026-11-27T10:00:00Z"}}


class Server:
    """A `pave serve` process on 127.0.0.1 and a port of its choosing."""

    def __init__(self, t, args, expect_start=True):
        self.t = t
        self.ready = os.path.join(t.tmp, f"ready-{time.monotonic_ns()}")
        self.err_path = self.ready + ".err"
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen([t.pave, "serve", "--listen", "127.0.0.1:0", "--ready-file", self.ready] + args,
                                     stdout=subprocess.PIPE, stderr=self.err)
        self.addr = None
        if expect_start:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not os.path.exists(self.ready):
                if self.proc.poll() is not None:
                    raise RuntimeError(f"pave serve exited {self.proc.returncode}: {self.stderr()}")
                time.sleep(0.02)
            if not os.path.exists(self.ready):
                raise RuntimeError("pave serve did not start in 20 s: " + self.stderr())
            self.addr = open(self.ready).read().strip()
            self.host, self.port = self.addr.rsplit(":", 1)

    def stderr(self):
        if not self.err.closed:
            self.err.flush()
        return open(self.err_path, "rb").read().decode("utf-8", "replace")

    def conn(self, tls=None):
        if tls:
            return http.client.HTTPSConnection(self.host, int(self.port), context=tls, timeout=10)
        return http.client.HTTPConnection(self.host, int(self.port), timeout=10)

    def request(self, method, path, body=None, headers=None, conn=None, tls=None):
        c = conn or self.conn(tls)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        if conn is None:
            c.close()
        return r.status, data.decode("utf-8", "replace"), r

    def decide(self, x, **kw):
        status, body, _ = self.request("POST", "/v1/decide", json.dumps(x) if not isinstance(x, str) else x, **kw)
        return status, body

    def metrics(self):
        from prometheus_client.parser import text_string_to_metric_families
        _, text, _ = self.request("GET", "/metrics")
        out = {}
        for fam in text_string_to_metric_families(text):
            for s in fam.samples:
                out[(s.name, tuple(sorted(s.labels.items())))] = s.value
        return out

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()
        return self.proc.returncode


class Tests:
    def __init__(self, pave, conformance, only):
        self.pave = os.path.abspath(pave)
        self.conformance = conformance
        self.only = only
        self.tmp = tempfile.mkdtemp(prefix="pave-serve-")
        self.passed = 0
        self.failures = []
        self.servers = []

    # ---- helpers ----
    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failures.append(f"FAIL {name}: {detail}"[:1500])

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def run(self, args, stdin=None, ok=True):
        p = subprocess.run([self.pave] + args, input=stdin, capture_output=True, text=True, timeout=120)
        if ok and p.returncode != 0:
            raise RuntimeError(f"pave {' '.join(args)}: exit {p.returncode}: {p.stderr[:500]}")
        return p

    def bundle(self, name, policy, key=None):
        src = self.path("src-" + name)
        os.makedirs(src, exist_ok=True)
        with open(os.path.join(src, "policy.pave"), "w") as f:
            f.write(policy)
        out = self.path(name + ".pvb")
        self.run(["build", src, "-o", out, "--now", NOW, "--no-analyze"] + (["--sign-key", key] if key else []))
        return out

    def keypair(self, name):
        key, pub = self.path(name + ".key"), self.path(name + ".pub")
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True, capture_output=True)
        return key, pub

    def serve(self, args, **kw):
        s = Server(self, args, **kw)
        self.servers.append(s)
        return s

    def digest(self, bundle_path):
        p = self.run(["verify", bundle_path])
        return "sha256:" + p.stdout.split("sha256:")[1].split(",")[0]

    def eval(self, bundle, inputs, explain=False):
        lines = "".join((i if isinstance(i, str) else json.dumps(i)) + "\n" for i in inputs)
        p = self.run(["eval", bundle, "-"] + (["--explain"] if explain else []), stdin=lines)
        return [l for l in p.stdout.splitlines() if l.strip()]

    @staticmethod
    def strip_id(line):
        d = json.loads(line)
        d.pop("decision_id", None)
        return d

    # ---- the checks ----
    def test_conformance_decisions(self):
        cases = []
        root = os.path.join(self.conformance, "cases")
        for dirpath, _, files in sorted(os.walk(root)):
            if "case.json" in files:
                spec = json.load(open(os.path.join(dirpath, "case.json")))
                if spec.get("decisions"):
                    cases.append((os.path.relpath(dirpath, root), dirpath, spec))
        self.check("conformance cases found", len(cases) >= 5, f"{len(cases)} cases under {root}")
        for name, path, spec in cases:
            out = self.path("conf-" + name.replace("/", "_") + ".pvb")
            b = self.run(["build", path, "-o", out] + (["--now", spec["now"]] if "now" in spec else []), ok=False)
            if b.returncode != 0:
                continue  # a case whose build is expected to fail has no decisions to serve
            inputs = [c["input"] for c in spec["decisions"]]
            explain = any(c.get("explain") for c in spec["decisions"])
            want = self.eval(out, inputs, explain)
            s = self.serve(["--bundle", out, "--allow-unsigned"])
            conn = s.conn()
            got = []
            for i in inputs:
                status, body, _ = s.request("POST", "/v1/decide" + ("?explain=true" if explain else ""), json.dumps(i),
                                            conn=conn)
                got.append(body.strip())
            conn.close()
            self.check(f"{name}: /v1/decide equals pave eval",
                       [self.strip_id(g) for g in got] == [json.loads(w) for w in want], f"{got[:2]} vs {want[:2]}")
            self.check(f"{name}: decision_id is the last member",
                       all(g.rfind('"decision_id":"') > g.rfind('"bundle":') for g in got), got[:1])
            batch = "".join(json.dumps(i) + "\n" for i in inputs)
            status, body, _ = s.request("POST", "/v1/decide/batch" + ("?explain=true" if explain else ""), batch)
            lines = [l for l in body.splitlines() if l.strip()]
            self.check(f"{name}: /v1/decide/batch equals pave eval, aligned",
                       status == 200 and [self.strip_id(l) for l in lines] == [json.loads(w) for w in want],
                       f"{status} {lines[:2]}")
            s.stop()

    def test_batch_alignment_and_malformed(self):
        a = self.bundle("align", POLICY_A)
        s = self.serve(["--bundle", a, "--allow-unsigned"])
        body = json.dumps(inp("read")) + "\r\n{not json\n\n" + json.dumps(inp("root")) + "\n" + json.dumps(inp("x"))
        status, out, _ = s.request("POST", "/v1/decide/batch", body)
        lines = out.splitlines()
        decisions = [json.loads(l)["decision"] for l in lines]
        self.check("batch: one line per non-blank input line", decisions == ["allow", "deny", "deny", "deny"], out[:400])
        self.check("batch: a line that is not JSON gives malformed-json",
                   json.loads(lines[1])["errors"][0]["code"] == "malformed-json", lines[1][:200])
        status, out = s.decide("{not json")
        self.check("decide: invalid input is a decision, not an HTTP error",
                   status == 200 and json.loads(out)["errors"][0]["code"] == "malformed-json", out[:200])
        # Lines of different request types interleaved (the batch decides them grouped by
        # type): each answer is still its own line's.
        kinds = [("read", "allow"), ("root", "deny"), ("nope", "unknown-request-type")]
        lines = []
        for k in range(300):
            name, _ = kinds[(k * 7) % 3]
            x = inp(name if name != "nope" else "read")
            if name == "nope":
                x["type"] = "Nope"
            lines.append(json.dumps(x))
        status, out, _ = s.request("POST", "/v1/decide/batch", "\n".join(lines))
        got = [json.loads(l) for l in out.splitlines()]
        misplaced = [k for k in range(len(lines)) if k >= len(got) or
                     (got[k]["errors"][0]["code"] if kinds[(k * 7) % 3][0] == "nope" else got[k]["decision"])
                     != kinds[(k * 7) % 3][1]]
        self.check("batch: request types interleaved, each answer on its line",
                   status == 200 and len(got) == len(lines) and not misplaced, (status, len(got), misplaced[:5]))
        s.stop()

    def test_threads_follow_concurrency(self):
        # Connection threads are made on demand and reused: one client after another, each
        # on a new connection, needs one thread however large --max-connections is.
        a = self.bundle("thr", POLICY_A)
        s = self.serve(["--bundle", a, "--allow-unsigned", "--max-connections", "64"])
        for _ in range(40):
            status, _ = s.decide(inp("read"))
            if status != 200:
                break
        threads = len(os.listdir(f"/proc/{s.proc.pid}/task"))
        self.check("40 connections one after another: a few threads, not --max-connections",
                   status == 200 and threads < 16, (status, threads))
        s.stop()

    def test_no_key_refused_and_allow_unsigned(self):
        a = self.bundle("plain", POLICY_A)
        p = subprocess.run([self.pave, "serve", "--bundle", a, "--listen", "127.0.0.1:0"], capture_output=True,
                           text=True, timeout=20)
        self.check("start without a key is refused", p.returncode == 2 and "--public-key" in p.stderr, p.stderr)
        p = subprocess.run([self.pave, "serve", "--bundle", a, "--public-key", "/dev/null", "--listen", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=20)
        self.check("an empty key file is refused", p.returncode == 2 and "no public key found" in p.stderr, p.stderr)
        s = self.serve(["--bundle", a, "--allow-unsigned"])
        m = s.metrics()
        self.check("--allow-unsigned reports pave_bundle_signed 0", m.get(("pave_bundle_signed", ())) == 0.0, str(m)[:300])
        status, info, _ = s.request("GET", "/v1/bundle")
        info = json.loads(info)
        self.check("/v1/bundle", info["digest"] == self.digest(a) and info["signed"] is False and info["key"] is None
                   and info["exceptions"][0] == {"id": "demo.waiver", "lifts": "demo.root", "until": "2099-01-01T00:00:00Z",
                                                 "owner": "team-a", "ticket": "SEC-1"}
                   and list(info) == ["name", "revision", "digest", "signed", "key", "loaded_at", "source", "rules",
                                      "exceptions"], info)
        self.check("warned at start", "--allow-unsigned" in s.stderr(), s.stderr())
        s.stop()

    def test_tables_data_digest(self):
        # A bundle with a table (SPEC §2.3): /v1/bundle and every decision name its data digest.
        src = self.path("src-tables")
        os.makedirs(os.path.join(src, "data"), exist_ok=True)
        with open(os.path.join(src, "policy.pave"), "w") as f:
            f.write('namespace t;\nprincipal Human { team: String }\nrequest Role for Human { account: String }\n'
                    'record Account { owner: String }\n'
                    'table accounts: Map<String, Account> from "data/accounts.json";\n'
                    'allow own on Role when request.account in accounts and accounts[request.account].owner == principal.team;\n')
        with open(os.path.join(src, "data", "accounts.json"), "w") as f:
            f.write('{"1": {"owner": "team-a"}}')
        out = self.path("tables.pvb")
        self.run(["build", src, "-o", out, "--now", NOW, "--no-analyze"])
        s = self.serve(["--bundle", out, "--allow-unsigned"])
        _, info, _ = s.request("GET", "/v1/bundle")
        info = json.loads(info)
        self.check("/v1/bundle names the data digest after the digest",
                   list(info)[:4] == ["name", "revision", "digest", "data_digest"]
                   and info["data_digest"].startswith("sha256:"), info)
        _, body = s.decide({"type": "Role", "principal": {"type": "Human", "team": "team-a"},
                            "request": {"account": "1"}, "context": {"time": "2026-11-27T10:00:00Z"}})
        d = json.loads(body)
        self.check("a decision with a table lookup", d["decision"] == "allow", d)
        self.check("the decision names the data digest", d["bundle"].get("data_digest") == info.get("data_digest"), d)
        s.stop()

    def test_no_bundle_yet(self):
        missing = self.path("missing.pvb")
        s = self.serve(["--bundle", missing, "--allow-unsigned"])
        status, _, _ = s.request("GET", "/readyz")
        self.check("/readyz is 503 before a bundle loads", status == 503, status)
        status, _, _ = s.request("GET", "/healthz")
        self.check("/healthz is 200 while the process runs", status == 200, status)
        status, out = s.decide(inp("read"))
        d = json.loads(out)
        self.check("decisions deny with no-bundle", d["decision"] == "deny" and d["errors"][0]["code"] == "no-bundle", out)
        shutil.copy(self.bundle("late", POLICY_A), missing)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and s.request("GET", "/readyz")[0] != 200:
            time.sleep(0.1)
        self.check("the file is loaded once it appears", s.request("GET", "/readyz")[0] == 200, s.stderr())
        self.check("then decisions use it", json.loads(s.decide(inp("read"))[1])["decision"] == "allow")
        s.stop()

    def test_reload_under_load(self):
        key, pub = self.keypair("reload")
        a, b = self.bundle("ra", POLICY_A, key), self.bundle("rb", POLICY_B, key)
        da, db = self.digest(a), self.digest(b)
        live = self.path("live.pvb")
        shutil.copy(a, live)
        s = self.serve(["--bundle", live, "--public-key", pub])
        stop = threading.Event()
        results = {"ok": 0, "bad": [], "digests": set()}
        lock = threading.Lock()

        def client():
            conn = s.conn()
            n = 0
            deadline = time.monotonic() + 60
            while not stop.is_set() and n < 200000 and time.monotonic() < deadline:
                n += 1
                try:
                    status, body, _ = s.request("POST", "/v1/decide", json.dumps(inp("read")), conn=conn)
                    d = json.loads(body)
                    with lock:
                        if status != 200 or d["decision"] != "allow" or d["errors"]:
                            results["bad"].append(body[:200])
                        else:
                            results["ok"] += 1
                            results["digests"].add(d["bundle"]["digest"])
                except Exception as e:  # a failed request is what this test looks for
                    with lock:
                        results["bad"].append(repr(e))
                    conn.close()
                    conn = s.conn()
            conn.close()

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        for i in range(20):
            src = b if i % 2 == 0 else a
            tmp = live + ".tmp"
            shutil.copy(src, tmp)
            os.replace(tmp, live)  # an atomic replacement, as deployment tools do
            want = db if i % 2 == 0 else da
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and json.loads(s.request("GET", "/v1/bundle")[1])["digest"] != want:
                time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join()
        self.check("reload under load: zero failed requests", not results["bad"], results["bad"][:3])
        self.check("reload under load: requests were made", results["ok"] > 100, results["ok"])
        self.check("reload under load: every response names one of the two digests",
                   results["digests"] <= {da, db} and len(results["digests"]) == 2, results["digests"])
        last = [json.loads(s.decide(inp("read"))[1])["bundle"]["digest"] for _ in range(20)]
        self.check("after the last swap only the new digest appears", set(last) == {da}, set(last))
        s.stop()

    def push_bad_bundles(self, s, target, good, other_key_bundle, unsigned, url_mode):
        data = open(good, "rb").read()
        bad = {
            "corrupt": data[:100] + bytes([data[100] ^ 0xff]) + data[101:],
            "truncated": data[: len(data) // 2],
            "unsigned": open(unsigned, "rb").read(),
            "wrong-key": open(other_key_bundle, "rb").read(),
        }
        digest = self.digest(good)
        before = s.metrics()
        fails0 = sum(v for (n, _), v in before.items() if n == "pave_bundle_reload_failures_total")
        for i, (what, blob) in enumerate(bad.items()):
            tmp = target + ".tmp"
            with open(tmp, "wb") as f:
                f.write(blob)
            os.replace(tmp, target)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                m = s.metrics()
                if sum(v for (n, _), v in m.items() if n == "pave_bundle_reload_failures_total") >= fails0 + i + 1:
                    break
                time.sleep(0.05)
            d = json.loads(s.decide(inp("read"))[1])
            self.check(f"{url_mode}: {what} bundle: the last good one keeps serving",
                       d["decision"] == "allow" and d["bundle"]["digest"] == digest, d)
            self.check(f"{url_mode}: {what} bundle: /readyz unaffected", s.request("GET", "/readyz")[0] == 200)
        m = s.metrics()
        fails = sum(v for (n, _), v in m.items() if n == "pave_bundle_reload_failures_total")
        self.check(f"{url_mode}: pave_bundle_reload_failures_total grows", fails >= fails0 + 4, fails)
        err = s.stderr()
        self.check(f"{url_mode}: the reasons are logged",
                   "digest mismatch" in err and "not signed" in err and "verification failed" in err, err[-1500:])

    def bad_bundle_set(self, prefix):
        """A trusted public key, a bundle signed with its key, one signed with another key and an
        unsigned one (files named with `prefix`): (pub, good, wrong, unsigned)."""
        key, pub = self.keypair(prefix + "good")
        other, _ = self.keypair(prefix + "other")
        good = self.bundle(prefix + "good", POLICY_A, key)
        wrong = self.bundle(prefix + "wrong", POLICY_A, other)
        unsigned = self.bundle(prefix + "unsigned", POLICY_A)
        return pub, good, wrong, unsigned

    def test_bad_bundles_file_source(self):
        pub, good, wrong, unsigned = self.bad_bundle_set("")
        target = self.path("served.pvb")
        shutil.copy(good, target)
        s = self.serve(["--bundle", target, "--public-key", pub])
        self.push_bad_bundles(s, target, good, wrong, unsigned, "file source")
        s.stop()

    def test_bad_bundles_url_source(self):
        pub, good, wrong, unsigned = self.bad_bundle_set("url")
        root = self.path("www")
        os.makedirs(root)
        target = os.path.join(root, "b.pvb")
        shutil.copy(good, target)
        requests = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **kw):
                super().__init__(*a, directory=root, **kw)

            def send_head(self):
                # An ETag from the content, and 304 for If-None-Match, as static servers do.
                path = self.translate_path(self.path)
                try:
                    data = open(path, "rb").read()
                except OSError:
                    self.send_error(404)
                    return None
                etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
                requests.append(self.headers.get("If-None-Match"))
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return None
                self.send_response(200)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                import io
                return io.BytesIO(data)

            def log_message(self, *a):
                pass

        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{httpd.server_address[1]}/b.pvb"
        s = self.serve(["--bundle", url, "--public-key", pub, "--poll", "200ms"])
        self.check("URL source: loaded", json.loads(s.decide(inp("read"))[1])["decision"] == "allow", s.stderr())
        time.sleep(0.6)
        self.check("URL source: polls with If-None-Match", any(r for r in requests), requests)
        self.push_bad_bundles(s, target, good, wrong, unsigned, "URL source")
        s.stop()
        httpd.shutdown()

    def test_tokens(self):
        a = self.bundle("tok", POLICY_A)
        tokens = self.path("tokens")
        with open(tokens, "w") as f:
            f.write("# clients\nportal-1 0123456789abcdef0123\nbroker s3cr3t-s3cr3t-s3cr3t\n")
        log = self.path("tok.jsonl")
        s = self.serve(["--bundle", a, "--allow-unsigned", "--token-file", tokens, "--log", "file:" + log])
        status, _ = s.decide(inp("read"))
        self.check("tokens: 401 without", status == 401, status)
        status, _ = s.decide(inp("read"), headers={"Authorization": "Bearer wrong-wrong-wrong-wrong"})
        self.check("tokens: 401 with a wrong token", status == 401, status)
        status, _, _ = s.request("GET", "/v1/bundle")
        self.check("tokens: /v1/bundle needs one too", status == 401, status)
        status, body = s.decide(inp("read"), headers={"Authorization": "Bearer 0123456789abcdef0123"})
        self.check("tokens: 200 with", status == 200 and json.loads(body)["decision"] == "allow", body)
        self.check("tokens: /healthz needs none", s.request("GET", "/healthz")[0] == 200)
        s.stop()
        records = [json.loads(l) for l in open(log)]
        self.check("tokens: the client's name is in the log", [r["client"] for r in records] == ["portal-1"], records)

    def test_tls_and_mtls(self):
        d = self.path("pki")
        os.makedirs(d)

        def sh(*cmd):
            subprocess.run(cmd, cwd=d, check=True, capture_output=True)

        sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
           "-subj", "/CN=test-ca")
        with open(os.path.join(d, "san.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\n")
        for name in ("server", "client"):
            sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
               "-subj", f"/CN={'portal-7' if name == 'client' else '127.0.0.1'}")
            sh("openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
               "-out", f"{name}.pem", "-days", "2", "-extfile", "san.ext")
        a = self.bundle("tls", POLICY_A)
        ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.pem"))
        s = self.serve(["--bundle", a, "--allow-unsigned", "--tls-cert", os.path.join(d, "server.pem"), "--tls-key",
                        os.path.join(d, "server.key")])
        status, body = s.decide(inp("read"), tls=ctx)
        self.check("TLS: a decision over https", status == 200 and json.loads(body)["decision"] == "allow", body)
        s.stop()
        log = self.path("mtls.jsonl")
        s = self.serve(["--bundle", a, "--allow-unsigned", "--tls-cert", os.path.join(d, "server.pem"), "--tls-key",
                        os.path.join(d, "server.key"), "--client-ca", os.path.join(d, "ca.pem"), "--log", "file:" + log])
        try:
            s.decide(inp("read"), tls=ctx)
            refused = False
        except (ssl.SSLError, ConnectionError, http.client.HTTPException, OSError):
            refused = True
        self.check("mTLS: a client without a certificate is refused", refused)
        cctx = ssl.create_default_context(cafile=os.path.join(d, "ca.pem"))
        cctx.load_cert_chain(os.path.join(d, "client.pem"), os.path.join(d, "client.key"))
        status, body = s.decide(inp("read"), tls=cctx)
        self.check("mTLS: a client with a certificate decides", status == 200 and json.loads(body)["decision"] == "allow",
                   body)
        s.stop()
        records = [json.loads(l) for l in open(log)]
        self.check("mTLS: the certificate's name is the log's client", [r["client"] for r in records] == ["portal-7"],
                   records)

    def test_limits(self):
        a = self.bundle("lim", POLICY_A)
        s = self.serve(["--bundle", a, "--allow-unsigned", "--max-body", "4KiB", "--read-timeout", "1s"])
        status, body = s.decide('{"type":"Role","pad":"' + "x" * 8000 + '"}')
        self.check("413 on a body over --max-body", status == 413, (status, body[:200]))
        # A slow client: half a request, then silence. The server closes the connection.
        sock = socket.create_connection((s.host, int(s.port)), timeout=10)
        sock.sendall(b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"type\":")
        t0 = time.monotonic()
        try:
            data = sock.recv(4096)
        except socket.timeout:
            data = None
        waited = time.monotonic() - t0
        self.check("a slow client is timed out", data is not None and waited < 8, (data, waited))
        sock.close()
        status, body = s.decide(inp("read"))
        self.check("the server still answers after a slow client", status == 200, status)
        s.stop()

    def test_sigterm_in_flight(self):
        a = self.bundle("term", POLICY_A)
        log = self.path("term.jsonl")
        s = self.serve(["--bundle", a, "--allow-unsigned", "--log", "file:" + log, "--max-body", "32MiB"])
        batch = "".join(json.dumps(inp("read")) + "\n" for _ in range(20000))
        answers = []

        def client():
            try:
                status, body, _ = s.request("POST", "/v1/decide/batch", batch)
                answers.append((status, body.count("\n")))
                finished.append(time.monotonic())
            except Exception as e:
                answers.append(repr(e))

        finished = []
        threads = [threading.Thread(target=client) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.05)
        signalled = time.monotonic()
        rc = s.stop(signal.SIGTERM)
        for t in threads:
            t.join()
        self.check("SIGTERM: exit 0", rc == 0, (rc, s.stderr()[-500:]))
        answered = [a for a in answers if isinstance(a, tuple)]
        self.check("SIGTERM: requests in flight are answered", all(a == (200, 20000) for a in answered) and answered,
                   answers)
        self.check("SIGTERM: some requests were still in flight when it came", any(t > signalled for t in finished),
                   (finished, signalled))
        n = sum(1 for _ in open(log))
        self.check("SIGTERM: the log is flushed (one record per decision answered)",
                   n == 20000 * len(answered), (n, answers))

    def test_decision_log(self):
        a = self.bundle("log", POLICY_A)
        log = self.path("dl.jsonl")
        s = self.serve(["--bundle", a, "--allow-unsigned", "--log", "file:" + log, "--log-redact", "request.token"])
        inputs = [inp("read"), inp("root"), inp("root", email="ops@acme.io"), inp("x"), "{broken",
                  inp("read", token="hunter2")]
        conn = s.conn()
        ids = []
        for i in inputs:
            status, body, _ = s.request("POST", "/v1/decide", i if isinstance(i, str) else json.dumps(i), conn=conn)
            ids.append(json.loads(body)["decision_id"])
        conn.close()
        batch = "".join(json.dumps(inp("read")) + "\n" for _ in range(10))
        s.request("POST", "/v1/decide/batch", batch)
        m = s.metrics()
        s.stop()
        records = [json.loads(l) for l in open(log)]
        self.check("log: one record per decision", len(records) == 16, len(records))
        self.check("log: members in order",
                   all(list(r) == ["log_version", "id", "time", "source", "client", "input", "decision", "eval_ns"]
                       for r in records), list(records[0]))
        self.check("log: ids are the decision ids", [r["id"] for r in records[:6]] == ids, ids)
        self.check("log: ids are UUIDv7, in order",
                   all(r["id"][14] == "7" for r in records) and [r["id"] for r in records] == sorted(r["id"] for r in records),
                   [r["id"] for r in records][:3])
        self.check("log: no trace in records", all("trace" not in r["decision"] for r in records))
        self.check("log: malformed input kept raw", records[4]["input"] == {"raw": "{broken"}, records[4]["input"])
        red = records[5]["input"]["request"]["token"]
        want = "sha256:" + hashlib.sha256(json.dumps("hunter2").encode()).hexdigest()
        self.check("log: redaction hashes the value", red == {"redacted": want}, (red, want))
        # Every record's input, re-decided by pave eval, gives the logged decision.
        replay = [r for r in records if "raw" not in r["input"] and "redacted" not in json.dumps(r["input"])]
        got = self.eval(a, [json.dumps(r["input"]) for r in replay])
        self.check("log: each record's input re-decided by pave eval gives the logged decision",
                   [json.loads(g) for g in got] == [r["decision"] for r in replay], (got[:1], replay[:1]))
        self.check("log: pave_decision_log_records_total counts them",
                   m.get(("pave_decision_log_records_total", ())) == 16.0, m.get(("pave_decision_log_records_total", ())))
        # pave eval --log writes the same records.
        elog = self.path("eval.jsonl")
        self.run(["eval", a, "-", "--log", "file:" + elog], stdin="".join(json.dumps(i) + "\n" for i in inputs[:4]))
        erecs = [json.loads(l) for l in open(elog)]
        self.check("pave eval --log: one record per decision, source eval",
                   len(erecs) == 4 and all(r["source"] == "eval" and r["client"] is None for r in erecs), erecs[:1])
        self.check("pave eval --log: the same decisions as the server logged",
                   [r["decision"] for r in erecs] == [r["decision"] for r in records[:4]])

    def test_rotation(self):
        a = self.bundle("rot", POLICY_A)
        log = self.path("rot", "d.jsonl")
        os.makedirs(os.path.dirname(log))
        s = self.serve(["--bundle", a, "--allow-unsigned", "--log", "file:" + log, "--log-rotate", "8KiB",
                        "--log-keep", "3"])
        conn = s.conn()
        for _ in range(200):
            s.request("POST", "/v1/decide", json.dumps(inp("read")), conn=conn)
            time.sleep(0.001)
        conn.close()
        s.stop()
        files = sorted(os.listdir(os.path.dirname(log)))
        self.check("rotation keeps N files", files == ["d.jsonl", "d.jsonl.1", "d.jsonl.2", "d.jsonl.3"], files)
        sizes = [os.path.getsize(os.path.join(os.path.dirname(log), f)) for f in files]
        self.check("rotated files stay near the size", all(sz <= 8192 + 2048 for sz in sizes), sizes)

    def test_log_full_http_sink(self):
        a = self.bundle("full", POLICY_A)
        # A collector that is down: a port with nothing listening.
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/logs"
        sock.close()
        s = self.serve(["--bundle", a, "--allow-unsigned", "--log", dead, "--log-full", "deny", "--log-buffer", "4KiB"])
        conn = s.conn()
        outcomes = []
        for _ in range(60):
            status, body, _ = s.request("POST", "/v1/decide", json.dumps(inp("read")), conn=conn)
            outcomes.append(json.loads(body))
        conn.close()
        denied = [d for d in outcomes if d["errors"] and d["errors"][0]["code"] == "decision-log-unavailable"]
        self.check("--log-full deny: decisions deny with decision-log-unavailable once the buffer is full",
                   denied and all(d["decision"] == "deny" for d in denied) and outcomes[0]["decision"] == "allow",
                   [d["decision"] for d in outcomes][:20])
        s.stop(signal.SIGKILL)
        s = self.serve(["--bundle", a, "--allow-unsigned", "--log", dead, "--log-full", "drop", "--log-buffer", "4KiB"])
        conn = s.conn()
        outcomes = [json.loads(s.request("POST", "/v1/decide", json.dumps(inp("read")), conn=conn)[1])["decision"]
                    for _ in range(60)]
        conn.close()
        m = s.metrics()
        self.check("--log-full drop: decisions unaffected", set(outcomes) == {"allow"}, set(outcomes))
        self.check("--log-full drop: drops counted", m.get(("pave_decision_log_dropped_total", ()), 0) > 0, m)
        s.stop(signal.SIGKILL)

        # A collector that is up receives gzipped JSON Lines.
        got = []

        class Collector(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                got.append((self.headers.get("Content-Encoding"), gzip.decompress(body).decode()))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *a):
                pass

        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        s = self.serve(["--bundle", a, "--allow-unsigned", "--log", f"http://127.0.0.1:{httpd.server_address[1]}/logs"])
        for _ in range(25):
            s.decide(inp("read"))
        s.stop()
        httpd.shutdown()
        lines = [l for _, text in got for l in text.splitlines()]
        self.check("HTTP sink: gzipped JSON Lines, every record", len(lines) == 25 and all(e == "gzip" for e, _ in got)
                   and all(json.loads(l)["decision"]["decision"] == "allow" for l in lines), (len(lines), got[:1]))

    def test_config_file(self):
        a = self.bundle("cfg", POLICY_A)
        d = self.path("cfg")
        os.makedirs(d)
        shutil.copy(a, os.path.join(d, "b.pvb"))
        with open(os.path.join(d, "pave.toml"), "w") as f:
            f.write('[serve]\nbundle = "b.pvb"\nallow_unsigned = true\nlog = "file:d.jsonl"\nmax_body = "2KiB"\n'
                    '[log]\nredact = ["request.token"]\n')
        s = self.serve(["--config", os.path.join(d, "pave.toml")])
        status, body = s.decide(inp("read", token="t0ps3cret"))
        self.check("config: [serve] bundle and allow_unsigned", status == 200 and json.loads(body)["decision"] == "allow",
                   body)
        status, _ = s.decide('{"pad":"' + "x" * 4000 + '"}')
        self.check("config: [serve] max_body", status == 413, status)
        s.stop()
        rec = json.loads(open(os.path.join(d, "d.jsonl")).readline())
        self.check("config: [serve] log (relative to the file) and [log] redact",
                   "redacted" in rec["input"]["request"]["token"], rec["input"])
        with open(os.path.join(d, "bad.toml"), "w") as f:
            f.write('[serve]\nbundel = "b.pvb"\n')
        p = subprocess.run([self.pave, "serve", "--config", os.path.join(d, "bad.toml")], capture_output=True, text=True,
                           timeout=20)
        self.check("config: an unknown option is an error", p.returncode == 2 and "bundel" in p.stderr, p.stderr)

    def test_audit_reads_the_servers_log(self):
        a = self.bundle("aud", POLICY_A)
        log = self.path("aud.jsonl")
        s = self.serve(["--bundle", a, "--allow-unsigned", "--log", "file:" + log])
        # The last input is JSON but not an object: the server logs it as received, and
        # the audit reads that record like any other (a fuzzer found the reader refusing it).
        sent = [inp("read")] * 3 + [inp("root", email="ops@acme.io")] * 4 + [inp("root")] * 2 + ["[1,\n2]"]
        ids = [json.loads(s.decide(i)[1])["decision_id"] for i in sent]
        s.stop()
        # Counted here from the records themselves, not by the code under test.
        records = [json.loads(l) for l in open(log)]
        uses = sum(1 for r in records for x in r["decision"]["exceptions"] if x["id"] == "demo.waiver")
        p = self.run(["audit", "exceptions", "--bundle", a, log, "--now", NOW, "--format", "json"], ok=False)
        rep = json.loads(p.stdout)
        got = [x["uses"] for x in rep["exceptions"] if x["id"] == "demo.waiver"]
        self.check("pave audit exceptions reads pave serve's log", got == [uses] and uses == 4, (got, uses, p.stderr))
        p = self.run(["audit", "show", ids[3], log, "--bundle", a], ok=False)
        self.check("pave audit show finds a served decision by its decision_id",
                   p.returncode == 0 and "demo.waiver" in p.stdout and "SEC-1" in p.stdout, p.stdout + p.stderr)
        p = self.run(["audit", "show", ids[-1], log], ok=False)
        self.check("pave audit reads a record whose input is JSON but not an object",
                   p.returncode == 0 and ids[-1] in p.stdout, p.stdout + p.stderr)

    def test_metrics(self):
        a = self.bundle("met", POLICY_A)
        s = self.serve(["--bundle", a, "--allow-unsigned"])
        sent = [inp("read")] * 7 + [inp("root")] * 3 + [inp("root", email="ops@acme.io")] * 2 + ["{bad"] * 4
        conn = s.conn()
        for i in sent:
            s.request("POST", "/v1/decide", i if isinstance(i, str) else json.dumps(i), conn=conn)
        conn.close()
        m = s.metrics()  # parsing it with prometheus_client is itself a check of the format
        s.stop()

        def get(name, **labels):
            return m.get((name, tuple(sorted(labels.items()))), 0)

        self.check("metrics: decisions by type and decision",
                   get("pave_decisions_total", request_type="demo.Role", decision="allow") == 7
                   and get("pave_decisions_total", request_type="demo.Role", decision="deny") == 5, m)
        self.check("metrics: input errors by code", get("pave_input_errors_total", code="malformed-json") == 4, m)
        self.check("metrics: rule matches", get("pave_rule_matches_total", rule="demo.read") == 7
                   and get("pave_rule_matches_total", rule="demo.root") == 3, m)
        self.check("metrics: exception uses", get("pave_exception_uses_total", exception="demo.waiver", lifts="demo.root") == 2,
                   m)
        self.check("metrics: exception expiry", get("pave_exception_expiry_timestamp_seconds", exception="demo.waiver")
                   == 4070908800, m)
        self.check("metrics: decision duration histogram", get("pave_decision_duration_seconds_count") == 16, m)
        self.check("metrics: bundle info", any(n == "pave_bundle_info" for n, _ in m), m)
        self.check("metrics: loaded timestamp", get("pave_bundle_loaded_timestamp_seconds") > 1.7e9, m)

    def run_all(self):
        for name in sorted(dir(self)):
            if not name.startswith("test_") or (self.only and self.only not in name):
                continue
            try:
                getattr(self, name)()
            except Exception:
                self.failures.append(f"FAIL {name}: {traceback.format_exc()[-1500:]}")
            finally:
                for s in self.servers:
                    if s.proc.poll() is None:
                        s.proc.kill()
                        s.proc.wait()
                self.servers = []
        for f in self.failures:
            print(f)
        print(f"{self.passed} passed, {len(self.failures)} failed")
        shutil.rmtree(self.tmp, ignore_errors=True)
        return 1 if self.failures else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pave", required=True)
    ap.add_argument("--conformance", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared",
                                                          "conformance"))
    ap.add_argument("-k", default="")
    args = ap.parse_args()
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        print("tests/server: prometheus_client is missing (pip install prometheus-client)")
        print("0 passed, 1 failed")
        return 1
    return Tests(args.pave, args.conformance, args.k).run_all()


if __name__ == "__main__":
    sys.exit(main())
