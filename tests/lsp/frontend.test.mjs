// The incremental front end of `pave lsp` (issue 29 item 3): after an edit that keeps the
// edited file's declarations, only that file is re-checked (a partial build); the
// diagnostics published must equal those of a server that re-checks the whole unit on every
// edit (PAVE_LSP_FULL_CHECK=1), and an edit of the schema re-checks the files that depend
// on it. Environment: PAVE (the binary), REPO (the repository root).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { initialize, spawnServer } from './client.mjs';

const pave = process.env.PAVE;
const repo = process.env.REPO;
// The front end's codes (SPEC §6.1); analyzer findings arrive on their own schedule.
const FRONT_END = new Set(['syntax', 'duplicate-declaration', 'ambiguous-name', 'unknown-name', 'unknown-attribute',
  'type-mismatch', 'unguarded-optional', 'impossible-type-test', 'invalid-literal', 'invalid-clause',
  'exception-target', 'exception-incomplete', 'recursive-definition', 'expired-exception', 'unknown-annotation',
  'invalid-data']);
let tmp, workspace;
const servers = [];

function startServer(root, env) {
  const { proc, conn } = spawnServer(pave, { PAVE_CACHE_DIR: path.join(tmp, 'cache'), ...env });
  const s = { proc, conn, published: new Map(), builds: [] };
  servers.push(proc);
  conn.onNotification('textDocument/publishDiagnostics', (p) => s.published.set(p.uri, p.diagnostics));
  conn.onNotification('pave/build', (p) => s.builds.push(p));
  conn.onNotification('pave/analysis', () => {});
  conn.listen();
  s.init = () => initialize(conn, root, 'gen', { analysisEvents: true });
  s.open = (file) => s.conn.sendNotification('textDocument/didOpen', {
    textDocument: { uri: pathToFileURL(file).href, languageId: 'pave', version: 1, text: fs.readFileSync(file, 'utf8') },
  });
  s.version = 1;
  s.edit = (file, text) => s.conn.sendNotification('textDocument/didChange', {
    textDocument: { uri: pathToFileURL(file).href, version: ++s.version }, contentChanges: [{ text }],
  });
  // Requests are handled after the edits before them, and a build publishes before the
  // answer: once it arrives, the publications of the edits are in.
  s.barrier = (file) => s.conn.sendRequest('textDocument/documentSymbol', { textDocument: { uri: pathToFileURL(file).href } });
  s.frontEnd = () => {
    const out = {};
    for (const [uri, diags] of [...s.published].sort()) {
      const list = diags.filter((d) => FRONT_END.has(d.code));
      if (list.length) out[uri] = list;
    }
    return out;
  };
  s.close = async () => {
    await s.conn.sendRequest('shutdown');
    const exited = new Promise((resolve) => s.proc.on('exit', resolve));
    s.conn.sendNotification('exit');
    assert.equal(await exited, 0);
  };
  return s;
}

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pave-lsp-fe-'));
  workspace = path.join(tmp, 'repo');
  execFileSync('python3', [path.join(repo, 'bench', 'gen_repo.py'), workspace, '--rules', '200', '--files', '4']);
  // Another file with an error of its own: partial builds must keep its diagnostics.
  const broken = path.join(workspace, 'rules_002.pave');
  const text = fs.readFileSync(broken, 'utf8');
  fs.writeFileSync(broken, text.replace(/request\.role == "role-\d+"/, 'request.role == 9'));
});

after(() => {
  for (const proc of servers) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function bothServers() {
  const inc = startServer(workspace, {});
  const full = startServer(workspace, { PAVE_LSP_FULL_CHECK: '1' });
  await inc.init();
  await full.init();
  return [inc, full];
}

test('after a sequence of edits the partial re-checks publish what a full re-check does', async () => {
  const [inc, full] = await bothServers();
  const file = path.join(workspace, 'rules_001.pave');  // neither the first nor the last file
  const original = fs.readFileSync(file, 'utf8');
  const role = original.match(/request\.role == "role-\d+"/)[0];
  const other = path.join(workspace, 'rules_003.pave');  // after the edited file in path order
  const otherRule = fs.readFileSync(other, 'utf8').match(/^allow (\w+) on (\w+)/m);
  const edits = [
    original.replace(role, 'request.role == 1'),            // type-mismatch
    original.replace(role, 'request.rol == "x"'),          // unknown-attribute, with a fix
    '// a comment\n' + original.replace(role, 'request.rol == "x"'),
    original.replace(role, 'request.role == ('),            // syntax: the rest is checked as it last parsed
    original.replace(role, 'request.role == "x" and request.duration <= 4'),
    original,
    // A rule named like one of a later file: its declarations changed (a full check), and
    // the other file reports the duplicate.
    original + `\nallow ${otherRule[1]} on ${otherRule[2]} when request.role == 2;\n`,
    original + `\nallow ${otherRule[1]} on ${otherRule[2]} when request.role == 3;\n`,
    original.replace(role, 'request.role == 1'),
  ];
  for (const s of [inc, full]) {
    s.open(file);
    await s.barrier(file);
  }
  for (const [k, text] of edits.entries()) {
    for (const s of [inc, full]) {
      s.edit(file, text);
      await s.barrier(file);
    }
    assert.deepEqual(inc.frontEnd(), full.frontEnd(), `after edit ${k}`);
  }
  assert.ok(Object.keys(inc.frontEnd()).length > 0, 'the edits leave errors to compare');
  assert.ok(inc.builds.some((b) => b.partial), 'some edits re-checked the edited file alone');
  assert.ok(!full.builds.some((b) => b.partial), 'PAVE_LSP_FULL_CHECK=1 re-checks everything');
  // Idle: a partial build is replaced by a full one, which publishes nothing new.
  // (Checked as soon as the incremental server answers: while the other server re-checks,
  // this one may already be idle long enough for its full build.)
  inc.edit(file, original.replace(role, 'request.role == 7'));
  await inc.barrier(file);
  assert.equal(inc.builds[inc.builds.length - 1].partial, true);
  const builds = inc.builds.length;
  full.edit(file, original.replace(role, 'request.role == 7'));
  await full.barrier(file);
  await sleep(600);
  await inc.barrier(file);
  assert.ok(inc.builds.length > builds && !inc.builds[inc.builds.length - 1].partial, 'a full build follows when idle');
  assert.deepEqual(inc.frontEnd(), full.frontEnd(), 'after the full build');
  // A request on another file than the edited one gets a full build first.
  inc.edit(file, original.replace(role, 'request.role == 5'));
  await inc.barrier(file);
  assert.equal(inc.builds[inc.builds.length - 1].partial, true);
  const hover = await inc.conn.sendRequest('textDocument/hover', {
    textDocument: { uri: pathToFileURL(other).href },
    position: { line: fs.readFileSync(other, 'utf8').split('\n').findIndex((l) => l.includes('request.')), character: 10 },
  });
  assert.equal(inc.builds[inc.builds.length - 1].partial, false);
  assert.ok(hover === null || typeof hover === 'object');
  await inc.close();
  await full.close();
});

test('an edit of the schema re-checks the rules of other files that depend on it', async () => {
  const [inc, full] = await bothServers();
  const schema = path.join(workspace, 'schema.pave');
  const original = fs.readFileSync(schema, 'utf8');
  // `role` renamed in every request type: rules in the other files that read it break.
  const renamed = original.replaceAll('  role: String,', '  position: String,');
  assert.notEqual(renamed, original);
  for (const s of [inc, full]) {
    s.open(schema);
    await s.barrier(schema);
  }
  for (const [k, text] of [renamed, renamed + '\n', original, renamed].entries()) {
    for (const s of [inc, full]) {
      s.edit(schema, text);
      await s.barrier(schema);
    }
    const published = inc.frontEnd();
    const broken = Object.entries(published).filter(([uri, diags]) =>
      uri !== pathToFileURL(schema).href && diags.some((d) => d.code === 'unknown-attribute' && d.message.includes('`role`')));
    if (k === 2) assert.equal(broken.length, 0, 'restoring the schema clears the other files');
    else assert.ok(broken.length >= 2, `other files report the unknown attribute (edit ${k})`);
    assert.deepEqual(published, full.frontEnd(), `after edit ${k}`);
  }
  await inc.close();
  await full.close();
});
