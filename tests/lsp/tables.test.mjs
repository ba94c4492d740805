// `pave lsp` on tables (SPEC §2.3): hover, completion, definition into the data file and
// `invalid-data` diagnostics on the data file. Environment: PAVE (the binary), REPO (the
// repository root; tests/lsp/tables is the workspace).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { positionOf, startWorkspace } from './client.mjs';

const pave = process.env.PAVE;
const repo = process.env.REPO;
let lsp, conn, workspace;
let version = 1;
const uriOf = (file) => lsp.uriOf(file);
const diagnosticsFor = (uri, pred, timeoutMs) => lsp.diagnosticsFor(uri, pred, timeoutMs);

const policy = 'policy.pave';
let original;

/// Sets the policy's text in the editor; returns it.
function edit(text) {
  conn.sendNotification('textDocument/didChange', {
    textDocument: { uri: uriOf(policy), version: ++version }, contentChanges: [{ text }],
  });
  return text;
}

function request(method, text, needle, offsetInNeedle) {
  return conn.sendRequest(method, { textDocument: { uri: uriOf(policy) }, position: positionOf(text, needle, offsetInNeedle) });
}

async function completionAt(text, needle) {
  const list = await request('textDocument/completion', text, needle, needle.length);
  return list.items.map((i) => i.label).sort();
}

before(async () => {
  lsp = await startWorkspace({ pave, source: path.join(repo, 'tests/lsp/tables'), name: 'tables', env: { PAVE_NO_CACHE: '1' } });
  ({ conn, workspace } = lsp);
  original = fs.readFileSync(path.join(workspace, policy), 'utf8');
  conn.sendNotification('textDocument/didOpen', {
    textDocument: { uri: uriOf(policy), languageId: 'pave', version, text: original },
  });
  const diags = await diagnosticsFor(uriOf(policy));
  assert.deepEqual(diags.filter((d) => d.severity === 1), []);
});

after(() => lsp.stop());

test('hover on a table shows its signature, doc comment and row count', async () => {
  const hover = await request('textDocument/hover', original, 'in accounts', 'in '.length + 2);
  const text = hover.contents.value;
  assert.match(text, /table acme\.accounts: Map<String, acme\.Account> from "data\/accounts\.json"/);
  assert.match(text, /Who owns which account/);
  assert.match(text, /\b3 rows\b/);
});

test('hover on a record and on its attributes', async () => {
  const record = await request('textDocument/hover', original, 'record Account', 'record '.length + 1);
  assert.match(record.contents.value, /record acme\.Account/);
  assert.match(record.contents.value, /A row per cloud account/);
  assert.match(record.contents.value, /`frozen: Bool\?`/);
  const declared = await request('textDocument/hover', original, 'frozen: Bool?', 1);
  assert.match(declared.contents.value, /frozen: Bool\?/);
  assert.match(declared.contents.value, /attribute of record `acme\.Account`/);
  const used = await request('textDocument/hover', original, '].owner ==', 3);
  assert.match(used.contents.value, /owner: String/);
  assert.match(used.contents.value, /attribute of record `acme\.Account`/);
  // With a constant key, the attribute's value in that row.
  const row = await request('textDocument/hover', original, 'accounts["222"].env', 'accounts["222"].'.length + 1);
  assert.match(row.contents.value, /in the row `"222"`: `acme\.Env\.dev`/);
  const lookup = await request('textDocument/hover', original, 'accounts["222"].env', 'accounts['.length + 2);
  assert.match(lookup.contents.value, /row `"222"` of table `acme\.accounts` \(line 3 of `data\/accounts\.json`\)/);
  assert.match(lookup.contents.value, /`owner`: `"team-b"`/);
});

test('definition: table and attribute to their declarations, path and constant key into the data file', async () => {
  const dataUri = uriOf('data/accounts.json');
  const table = await request('textDocument/definition', original, 'in accounts', 'in '.length + 1);
  assert.equal(table.uri, uriOf(policy));
  assert.equal(table.range.start.line, positionOf(original, 'table accounts').line);
  const attr = await request('textDocument/definition', original, '].owner ==', 3);
  assert.equal(attr.uri, uriOf(policy));
  assert.deepEqual(attr.range.start, positionOf(original, 'owner: String'));
  const file = await request('textDocument/definition', original, '"data/accounts.json"', 3);
  assert.equal(file.uri, dataUri);
  assert.equal(file.range.start.line, 0);
  const row = await request('textDocument/definition', original, 'accounts["222"].env', 'accounts['.length + 2);
  assert.equal(row.uri, dataUri);
  const data = fs.readFileSync(path.join(workspace, 'data/accounts.json'), 'utf8');
  assert.equal(row.range.start.line, positionOf(data, '"222"').line);
  const missing = edit(original.replace('accounts["222"].env', 'accounts["999"].env'));
  assert.equal(await request('textDocument/definition', missing, 'accounts["999"]', 'accounts['.length + 2), null);
  edit(original);
});

test('completion: tables as values, row attributes, keywords and record names in a table declaration', async () => {
  const anchor = 'allow own_account on CloudRole\n';
  const typed = (snippet) => edit(original.replace(anchor, anchor + '  when ' + snippet + '\n'));
  let text = typed('accounts[request.account].');
  assert.deepEqual(await completionAt(text, 'accounts[request.account].'), ['admins', 'env', 'frozen', 'owner']);
  text = typed('accounts[request.account].ow');
  assert.deepEqual(await completionAt(text, 'accounts[request.account].ow'), ['admins', 'env', 'frozen', 'owner']);
  text = typed('accounts["111"].admins.');
  assert.ok((await completionAt(text, 'accounts["111"].admins.')).includes('contains'));
  text = typed('acc');
  let labels = await completionAt(text, '  when acc');
  assert.ok(labels.includes('accounts'));
  const top = 'request CloudRole for Human {';
  const declared = (snippet) => edit(original.replace(top, snippet + '\n' + top));
  text = declared('tab');
  labels = await completionAt(text, '\ntab');
  assert.ok(labels.includes('table') && labels.includes('record'));
  text = declared('table other: Map<String, ');
  assert.deepEqual(await completionAt(text, 'table other: Map<String, '), ['Account']);
  text = declared('table other: Map<String, Acc');
  assert.deepEqual(await completionAt(text, 'table other: Map<String, Acc'), ['Account']);
  text = declared('table other: Map<String, Account> ');
  assert.deepEqual(await completionAt(text, 'table other: Map<String, Account> '), ['from']);
  edit(original);
});

test('document symbols list records with their attributes and tables', async () => {
  const symbols = await conn.sendRequest('textDocument/documentSymbol', { textDocument: { uri: uriOf(policy) } });
  const record = symbols.find((s) => s.name === 'Account');
  assert.deepEqual(record.children.map((c) => c.name), ['owner', 'env', 'admins', 'frozen']);
  const table = symbols.find((s) => s.name === 'accounts');
  assert.match(table.detail, /table acme\.accounts: Map<String, acme\.Account> from "data\/accounts\.json"/);
});

test('an invalid data file gets `invalid-data` on its row; fixing it clears it', async () => {
  const file = path.join(workspace, 'data/accounts.json');
  const good = fs.readFileSync(file, 'utf8');
  const dataUri = uriOf('data/accounts.json');
  fs.writeFileSync(file, good.replace('"env": "dev"', '"env": "devv"'));
  conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: dataUri, type: 2 }] });
  edit(original + '\n');  // any edit rebuilds the unit; the data is read again as its file changed
  const diags = await diagnosticsFor(dataUri, (d) => d.some((x) => x.code === 'invalid-data'));
  const bad = diags.find((x) => x.code === 'invalid-data');
  assert.equal(bad.severity, 1);
  assert.equal(bad.range.start.line, positionOf(good, '"222"').line);
  assert.match(bad.message, /devv/);
  // The table's hover no longer counts rows (nothing is built until the rows fit).
  const hover = await request('textDocument/hover', original, 'in accounts', 'in '.length + 2);
  assert.doesNotMatch(hover.contents.value, /rows/);
  fs.writeFileSync(file, good);
  conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: dataUri, type: 2 }] });
  edit(original);
  await diagnosticsFor(dataUri, (d) => d.length === 0);
  const again = await request('textDocument/hover', original, 'in accounts', 'in '.length + 2);
  assert.match(again.contents.value, /\b3 rows\b/);
});

test('a data file is read again only when its time or size changes', async () => {
  const file = path.join(workspace, 'data/accounts.json');
  const good = fs.readFileSync(file, 'utf8');
  const dataUri = uriOf('data/accounts.json');
  const rows = async () => (await request('textDocument/hover', original, 'in accounts', 'in '.length + 2)).contents.value;
  const invalid = () => (lsp.published.get(dataUri) ?? []).filter((x) => x.code === 'invalid-data');
  const T = 1700000000;
  fs.utimesSync(file, T, T);
  edit(original + '\n');
  assert.match(await rows(), /\b3 rows\b/);
  // Same size and time: the server keeps what it read (a keystroke does not re-read the file).
  const bad = good.replace('"env": "dev"', '"env": "ddd"');
  assert.equal(bad.length, good.length);
  fs.writeFileSync(file, bad);
  fs.utimesSync(file, T, T);
  edit(original);
  assert.match(await rows(), /\b3 rows\b/);
  assert.deepEqual(invalid(), []);
  // A new modification time: read again, and the bad row is reported.
  fs.utimesSync(file, T + 10, T + 10);
  edit(original + '\n');
  assert.doesNotMatch(await rows(), /rows/);
  assert.equal(invalid().length, 1);
  fs.writeFileSync(file, good);
  fs.utimesSync(file, T + 20, T + 20);
  edit(original);
  assert.match(await rows(), /\b3 rows\b/);
  assert.deepEqual(invalid(), []);
});
