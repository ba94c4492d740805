'use strict';
const fs = require('node:fs');
const path = require('node:path');

function manifest() {
  const dir = process.env.PAVE_BINDINGS_FIXTURES;
  if (!dir) {
    throw new Error('PAVE_BINDINGS_FIXTURES is not set: run bindings/testdata/prepare.py (scripts/bindings-test.sh does)');
  }
  return JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
}

// Every decision of every case: its case, input and the line `pave eval` printed.
function work(m) {
  const all = [];
  for (const c of m.cases) {
    const spec = JSON.parse(fs.readFileSync(c.case, 'utf8'));
    const expected = fs.readFileSync(c.expected, 'utf8').trimEnd().split('\n');
    if (expected.length !== spec.decisions.length) throw new Error(`${c.name}: expected lines differ`);
    spec.decisions.forEach((d, i) => all.push({ c, label: `${c.name}: ${d.name}`, input: d.input, expected: expected[i] }));
  }
  return all;
}

module.exports = { manifest, work };
