'use strict';
// The shared driver: every decision case of the conformance suite, decided through the
// Node API, gives byte for byte the decision `pave eval` printed.
const test = require('node:test');
const assert = require('node:assert');
const { Bundle } = require('..');
const { manifest, work } = require('./fixtures');

test('every conformance decision matches pave eval (object, string, Buffer, sync and async)', async () => {
  const m = manifest();
  const bundles = new Map(m.cases.map((c) => [c.name, Bundle.open(c.bundle)]));
  const all = work(m);
  assert.ok(all.length >= 50, `only ${all.length} decisions`);
  for (const w of all) {
    const b = bundles.get(w.c.name);
    const opts = { explain: w.c.explain };
    const text = JSON.stringify(w.input);
    for (const d of [b.decide(w.input, opts), b.decide(text, opts), b.decide(Buffer.from(text), opts),
      await b.decideAsync(w.input, opts)]) {
      assert.strictEqual(d.raw, w.expected, w.label);
      const want = JSON.parse(w.expected);
      assert.strictEqual(d.decision, want.decision, w.label);
      assert.deepStrictEqual(
        [d.rules, d.denyRules, d.exceptions, d.approvals, d.grants, d.reasons, d.errors, d.bundle],
        [want.rules, want.deny_rules, want.exceptions, want.approvals, want.grants, want.reasons, want.errors, want.bundle],
        w.label);
    }
  }
  for (const b of bundles.values()) b.close();
});
