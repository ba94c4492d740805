'use strict';
// Node binding timings for bench/bindings_bench.sh: ns per decision from an object and from
// a JSON string (sync), over the inputs (JSON lines) cycled.
const fs = require('node:fs');
const { Bundle } = require(process.env.PAVE_NODE_PACKAGE);
const [bundlePath, inputsPath, itersText] = process.argv.slice(2);
const iters = Number(itersText);
const texts = fs.readFileSync(inputsPath, 'utf8').split('\n').filter((l) => l.trim());
const objects = texts.map((t) => JSON.parse(t));
const b = Bundle.open(bundlePath);
const n = texts.length;
for (const [form, items] of [['json-string', texts], ['native', objects]]) {
  for (let i = 0; i < 5 * n; i++) b.decide(items[i % n]);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) b.decide(items[i % n]);
  const t1 = process.hrtime.bigint();
  console.log(`node ${form} ${Math.round(Number(t1 - t0) / iters)}`);
}
let t0 = process.hrtime.bigint();
for (let i = 0; i < iters; i++) b.decide(texts[i % n]).grants;
let t1 = process.hrtime.bigint();
console.log(`node json-string+parsed ${Math.round(Number(t1 - t0) / iters)}`);
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
