'use strict';
// Node binding timings for bench/bindings_bench.sh, over the inputs (JSON lines) cycled, in
// process CPU time (process.cpuUsage: the garbage collector's threads count; the time spent
// waiting for a core on a loaded machine does not). Rounds alternate the C API baseline in
// this process (pave_decide in a C++ loop, the addon's benchCApi) with each binding form, so
// that the overhead (median of the per-round differences) compares figures taken under the
// same load. Prints "node <form> <ns>" and "node <form>-overhead <ns>" lines.
const fs = require('node:fs');
const { Bundle } = require(process.env.PAVE_NODE_PACKAGE);
const [bundlePath, inputsPath, itersText] = process.argv.slice(2);
const iters = Number(itersText);
const texts = fs.readFileSync(inputsPath, 'utf8').split('\n').filter((l) => l.trim());
const objects = texts.map((t) => JSON.parse(t));
const b = Bundle.open(bundlePath);
const n = texts.length;
const round = 2000;
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) * 1000; };
const median = (v) => { const s = [...v].sort((x, y) => x - y); return s[s.length >> 1]; };

const forms = {
  'json-string': (k, off) => { for (let i = 0; i < k; i++) b.decide(texts[(off + i) % n]); },
  'native': (k, off) => { for (let i = 0; i < k; i++) b.decide(objects[(off + i) % n]); },
  'json-string+parsed': (k, off) => { for (let i = 0; i < k; i++) void b.decide(texts[(off + i) % n]).grants; },
};
b._h.benchCApi(texts, 5 * n); // warm up
for (const f of Object.values(forms)) f(5 * n, 0);
const c = [];
const got = Object.fromEntries(Object.keys(forms).map((k) => [k, { ns: [], over: [] }]));
for (let done = 0; done < iters; done += round) {
  const k = Math.min(round, iters - done);
  const t0 = cpu();
  b._h.benchCApi(texts, k);
  const base = (cpu() - t0) / k;
  c.push(base);
  for (const [name, f] of Object.entries(forms)) {
    const t1 = cpu();
    f(k, done);
    const ns = (cpu() - t1) / k;
    got[name].ns.push(ns);
    got[name].over.push(ns - base);
  }
}
console.log(`node c-api-in-process ${Math.round(median(c))}`);
for (const [name, g] of Object.entries(got)) {
  console.log(`node ${name} ${Math.round(median(g.ns))}`);
  console.log(`node ${name}-overhead ${Math.round(median(g.over))}`);
}
(async () => {
  const batch = 64;
  const t2 = process.hrtime.bigint();
  for (let i = 0; i < iters; i += batch) {
    const ps = [];
    for (let j = 0; j < batch; j++) ps.push(b.decideAsync(texts[(i + j) % n]));
    await Promise.all(ps);
  }
  const t3 = process.hrtime.bigint();
  console.log(`node async-throughput ${Math.round(Number(t3 - t2) / iters)}`);
})();
