'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const pave = require('..');
const { Bundle, BundleError } = pave;
const { manifest, work } = require('./fixtures');

const m = manifest();
const s = m.signed;
const read = (p) => fs.readFileSync(p, 'utf8');
const inputs = s.inputs.map(read);
const expected = read(s.expected).trimEnd().split('\n');

test('a signed bundle loads with the right key and decides like pave eval', () => {
  for (const publicKeys of [[read(s.key)], read(s.key), [read(s.rotation)], [read(s.other_key), read(s.key)],
    [fs.readFileSync(s.key)]]) {
    const b = Bundle.open(s.bundle, { publicKeys });
    assert.deepStrictEqual(inputs.map((i) => b.decide(i).raw), expected);
    assert.strictEqual(b.info.signed, true);
    assert.match(b.info.signer_key, /^sha256:/);
    assert.strictEqual(b.info.digest, JSON.parse(expected[0]).bundle.digest);
    assert.ok(b.info.request_types.includes('acme.CloudRole'));
    b.close();
  }
  const b = Bundle.open(fs.readFileSync(s.bundle), { publicKeys: [read(s.key)] });
  assert.strictEqual(b.decide(inputs[0]).raw, expected[0]);
  b.close();
});

test('wrong key, tampered bytes, missing file and no key raise errors with the runtime message', () => {
  assert.throws(() => Bundle.open(s.bundle, { publicKeys: [read(s.other_key)] }),
    (e) => e instanceof BundleError && /signature verification failed/.test(e.message));
  assert.throws(() => Bundle.open(s.tampered, { publicKeys: [read(s.key)] }),
    (e) => e instanceof BundleError && /digest mismatch/.test(e.message));
  assert.throws(() => Bundle.open(fs.readFileSync(s.tampered), { publicKeys: [read(s.key)] }),
    (e) => e instanceof BundleError && /digest mismatch/.test(e.message));
  const missing = path.join(os.tmpdir(), `pave-missing-${process.pid}.pvb`);
  assert.throws(() => Bundle.open(missing), (e) => e.code === 'ENOENT' && /cannot open/.test(e.message));
  assert.throws(() => Bundle.open(s.bundle, { publicKeys: [] }), BundleError);
  assert.throws(() => Bundle.open(s.bundle, { publicKeys: '' }), BundleError);
  const unchecked = Bundle.open(s.bundle);
  assert.strictEqual(unchecked.info.signer_key, null);
  unchecked.close();
});

test('invalid input is a deny; a value that is not JSON is a TypeError', async () => {
  const b = Bundle.open(s.bundle);
  const d = b.decide('{not json');
  assert.strictEqual(d.decision, 'deny');
  assert.strictEqual(d.errors[0].code, 'malformed-json');
  assert.throws(() => b.decide(undefined), TypeError);
  await assert.rejects(b.decideAsync(undefined), TypeError);
  assert.strictEqual(b.decide(inputs[0]).trace, undefined);
  assert.ok(b.decide(inputs[0], { explain: true }).trace.length > 0);
  b.close();
});

test('8 worker threads deciding on one bundle give the same results as one', async () => {
  // decideAsync runs on the libuv pool: scripts/bindings-test.sh sets UV_THREADPOOL_SIZE=8.
  const all = work(m);
  const bundles = new Map(m.cases.map((c) => [c.name, Bundle.open(c.bundle)]));
  const one = all.map((w) => bundles.get(w.c.name).decide(w.input, { explain: w.c.explain }).raw);
  const runs = await Promise.all(Array.from({ length: 8 }, async () => {
    const out = [];
    for (let rep = 0; rep < 10; rep++) {
      out.push(await Promise.all(all.map((w) => bundles.get(w.c.name).decideAsync(w.input, { explain: w.c.explain })
        .then((d) => d.raw))));
    }
    return out;
  }));
  for (const run of runs) for (const r of run) assert.deepStrictEqual(r, one);
  for (const b of bundles.values()) b.close();
});

test('closing while idle is safe; a closed bundle throws, async calls reject', async () => {
  const b = Bundle.open(s.bundle);
  assert.strictEqual(b.decide(inputs[0]).raw, expected[0]);
  b.close();
  b.close();
  assert.strictEqual(b.closed, true);
  assert.throws(() => b.decide(inputs[0]), (e) => e.code === 'ERR_PAVE_CLOSED');
  await assert.rejects(b.decideAsync(inputs[0]), (e) => e.code === 'ERR_PAVE_CLOSED');
  assert.throws(() => b.info, (e) => e.code === 'ERR_PAVE_CLOSED');

  // Closing with async decisions in flight: each resolves with the decision or rejects as closed.
  const c = Bundle.open(s.bundle);
  const pending = Array.from({ length: 200 }, () => c.decideAsync(inputs[0]));
  c.close();
  const results = await Promise.allSettled(pending);
  for (const r of results) {
    if (r.status === 'fulfilled') assert.strictEqual(r.value.raw, expected[0]);
    else assert.strictEqual(r.reason.code, 'ERR_PAVE_CLOSED');
  }
});

test('a native object constructed by hand is an error, not a crash', () => {
  const native = require('../build/Release/pave_native.node');
  const h = new native.NativeBundle();
  assert.throws(() => h.decide('{}'), (e) => e.code === 'ERR_PAVE_CLOSED');
  assert.strictEqual(pave.version(), '0.1.0');
});

// The addon writes string inputs into a reused 4,096-byte buffer and decisions into another:
// inputs and decisions around and beyond that size, with multi-byte characters at the
// boundary, decide exactly as the same bytes given as a Buffer (copied as they are) and as
// the C API's pave_decide (decideAsync).
test('inputs and decisions around the buffer size decide like their bytes', async () => {
  const b = Bundle.open(s.bundle, { publicKeys: [read(s.key)] });
  const base = JSON.parse(inputs[0]);
  for (let len = 4060; len <= 4110; len++) {
    for (const ch of ['a', 'é', '€', '😀']) {
      // The multi-byte characters end the text, so that some straddle its 4,096th byte.
      const empty = Buffer.byteLength(JSON.stringify({ ...base, note: '' }));
      const note = ch.repeat(Math.floor((len - empty) / Buffer.byteLength(ch)));
      let text = JSON.stringify({ ...base, note });
      text = ' '.repeat(len - Buffer.byteLength(text)) + text; // exactly len bytes
      assert.strictEqual(Buffer.byteLength(text), len);
      const viaString = b.decide(text, { explain: len % 7 === 0 }).raw;
      assert.strictEqual(viaString, b.decide(Buffer.from(text, 'utf8'), { explain: len % 7 === 0 }).raw);
      if (len % 10 === 0) assert.strictEqual(viaString, (await b.decideAsync(text, { explain: len % 7 === 0 })).raw);
    }
  }
  const big = b.decide(inputs[0], { explain: true }).raw; // an explained decision: a trace
  assert.strictEqual(big, (await b.decideAsync(inputs[0], { explain: true })).raw);
  b.close();
});
