// `pave lsp` end to end, as an editor would use it: the server runs as a child process and
// this test talks LSP to it through vscode-languageserver-protocol. Environment: PAVE (the
// binary), REPO (the repository root; examples/ is the workspace).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { positionOf, startWorkspace } from './client.mjs';

const pave = process.env.PAVE;
const repo = process.env.REPO;
let lsp, conn, workspace;
const uriOf = (file) => lsp.uriOf(file);
const diagnosticsFor = (uri, pred, timeoutMs) => lsp.diagnosticsFor(uri, pred, timeoutMs);

function open(file) {
  const text = fs.readFileSync(path.join(workspace, file), 'utf8');
  conn.sendNotification('textDocument/didOpen', {
    textDocument: { uri: uriOf(file), languageId: 'pave', version: 1, text },
  });
  return text;
}

before(async () => {
  lsp = await startWorkspace({ pave, source: path.join(repo, 'examples'), name: 'examples' });
  ({ conn, workspace } = lsp);
  assert.equal(lsp.init.capabilities.textDocumentSync.change, 2);
  assert.ok(lsp.init.capabilities.hoverProvider && lsp.init.capabilities.definitionProvider);
});

after(() => lsp.stop());

test('a clean workspace publishes no errors', async () => {
  open('policies/cloud.pave');
  const diags = await diagnosticsFor(uriOf('policies/cloud.pave'));
  assert.deepEqual(diags.filter((d) => d.severity === 1), []);
});

test('hover shows a request type with its doc comment and grant merge rules', async () => {
  const text = open('policies/cloud.pave');
  const hover = await conn.sendRequest('textDocument/hover', {
    textDocument: { uri: uriOf('policies/cloud.pave') },
    position: positionOf(text, 'allow human_nonprod on CloudRole', 'allow human_nonprod on '.length + 2),
  });
  assert.match(hover.contents.value, /request acme\.CloudRole for acme\.Human, acme\.Workload/);
  assert.match(hover.contents.value, /A cloud role session/);
  assert.match(hover.contents.value, /max_ttl.*merge min.*smallest/);
});

test('definition jumps from a use to the declaration in another file', async () => {
  const text = open('policies/cloud.pave');
  const loc = await conn.sendRequest('textDocument/definition', {
    textDocument: { uri: uriOf('policies/cloud.pave') },
    position: positionOf(text, 'request.env in [Env.dev', 'request.env in ['.length + 1),
  });
  assert.equal(loc.uri, uriOf('policies/schema.pave'));
  const schema = fs.readFileSync(path.join(workspace, 'policies/schema.pave'), 'utf8');
  assert.equal(loc.range.start.line, positionOf(schema, 'enum Env').line);
});

test('an edit publishes a type error with its code; undoing it clears the error', async () => {
  const uri = uriOf('policies/cloud.pave');
  const text = open('policies/cloud.pave');
  const at = positionOf(text, 'request.duration <= 4h', 'request.duration <= 4'.length);
  conn.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: at, end: { line: at.line, character: at.character + 1 } }, text: '' }],
  });
  const diags = await diagnosticsFor(uri, (d) => d.some((x) => x.severity === 1));
  const error = diags.find((x) => x.severity === 1);
  assert.equal(error.code, 'type-mismatch');
  assert.equal(error.range.start.line, at.line);
  conn.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 3 },
    contentChanges: [{ range: { start: at, end: at }, text: 'h' }],
  });
  const after = await diagnosticsFor(uri, (d) => !d.some((x) => x.severity === 1));
  assert.deepEqual(after.filter((x) => x.code === 'type-mismatch'), []);
});

test('completion offers the attributes of the principal type narrowed by `is`', async () => {
  const uri = uriOf('policies/cloud.pave');
  const text = open('policies/cloud.pave');
  const at = positionOf(text, '   and request.duration <= 4h');
  conn.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 4 },
    contentChanges: [{ range: { start: at, end: at }, text: '   and principal.\n' }],
  });
  const list = await conn.sendRequest('textDocument/completion', {
    textDocument: { uri }, position: { line: at.line, character: '   and principal.'.length },
  });
  const labels = list.items.map((i) => i.label).sort();
  assert.deepEqual(labels, ['email', 'groups', 'on_call']);
  const enums = await conn.sendRequest('textDocument/completion', {
    textDocument: { uri }, position: positionOf(text, 'Env.staging]', 'Env.'.length),
  });
  assert.deepEqual(enums.items.map((i) => i.label).sort(), ['dev', 'prod', 'staging']);
  conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: 5 }, contentChanges: [{ text }] });
});

test('a quick fix corrects a misspelt attribute', async () => {
  const uri = uriOf('policies/cloud.pave');
  const text = open('policies/cloud.pave');
  const at = positionOf(text, 'request.duration <= 4h', 'request.'.length);
  conn.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 6 },
    contentChanges: [{ range: { start: at, end: { line: at.line, character: at.character + 'duration'.length } }, text: 'duraton' }],
  });
  const diags = await diagnosticsFor(uri, (d) => d.some((x) => x.code === 'unknown-attribute'));
  const diag = diags.find((x) => x.code === 'unknown-attribute');
  const actions = await conn.sendRequest('textDocument/codeAction', {
    textDocument: { uri }, range: diag.range, context: { diagnostics: [diag] },
  });
  assert.equal(actions[0].kind, 'quickfix');
  assert.match(actions[0].title, /duration/);
  const edit = actions[0].edit.changes[uri][0];
  assert.equal(edit.newText, 'duration');
  assert.deepEqual(edit.range, diag.range);
  conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: 7 }, contentChanges: [{ text }] });
  await diagnosticsFor(uri, (d) => !d.some((x) => x.severity === 1));
});

test('formatting returns the canonical layout as one edit', async () => {
  const uri = uriOf('policies/messy.pave');
  const messy = 'namespace acme.messy;\nuse acme.Env;\nuse acme.CloudRole;\n' +
    '// keep me\nallow   quick on CloudRole when request.env==Env.dev and request.duration<=1h   grant max_ttl=request.duration ;\n';
  fs.writeFileSync(path.join(workspace, 'policies/messy.pave'), messy);
  conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'pave', version: 1, text: messy } });
  const edits = await conn.sendRequest('textDocument/formatting', {
    textDocument: { uri }, options: { tabSize: 2, insertSpaces: true },
  });
  assert.equal(edits.length, 1);
  assert.equal(edits[0].newText,
    'namespace acme.messy;\nuse acme.Env;\nuse acme.CloudRole;\n// keep me\nallow quick on CloudRole\n' +
    '  when request.env == Env.dev and request.duration <= 1h\n  grant max_ttl = request.duration;\n');
});

test('document symbols list the declarations of a file', async () => {
  open('policies/schema.pave');
  const symbols = await conn.sendRequest('textDocument/documentSymbol', {
    textDocument: { uri: uriOf('policies/schema.pave') },
  });
  const names = symbols.map((s) => s.name);
  assert.ok(names.includes('CloudRole') && names.includes('Env') && names.includes('context'));
  const cloud = symbols.find((s) => s.name === 'CloudRole');
  assert.ok(cloud.children.some((c) => c.name === 'max_ttl'));
});

test('analyzer findings follow the front end once typing pauses', async () => {
  const uri = uriOf('policies/dead.pave');
  const text = 'namespace acme.dead;\nuse acme.CloudRole;\n\n' +
    'allow never on CloudRole\n  when request.duration < 1h and request.duration > 2h;\n';
  fs.writeFileSync(path.join(workspace, 'policies/dead.pave'), text);
  conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'pave', version: 1, text } });
  const diags = await diagnosticsFor(uri, (d) => d.some((x) => x.code === 'dead-rule'), 120000);
  const dead = diags.find((x) => x.code === 'dead-rule');
  assert.equal(dead.severity, 2);
  assert.equal(dead.data.rule, 'acme.dead.never');
  assert.equal(dead.range.start.line, 3);
});

test('malformed messages get JSON-RPC errors, not a crash', async () => {
  await assert.rejects(conn.sendRequest('pave/noSuchMethod', {}), (e) => e.code === -32601);
  await assert.rejects(conn.sendRequest('textDocument/hover', { textDocument: 42 }), (e) => e.code === -32602);
  const hover = await conn.sendRequest('textDocument/hover', {
    textDocument: { uri: uriOf('policies/schema.pave') }, position: { line: 0, character: 0 },
  });
  assert.ok(hover === null || typeof hover === 'object');
});
