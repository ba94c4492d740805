// `pave lsp` on a generated repository (bench/gen_repo.py, 500 rules in 5 files), as in
// issue 29: findings stay published through edits, a comment-only edit runs no solver
// query and publishes nothing new, a one-rule edit re-publishes only its file, and `exit`
// does not wait for a running analysis. Environment: PAVE (the binary), REPO (the repository root).
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
const ANALYZER = new Set(['conflict', 'redundant-rule', 'shadowed-rule', 'dead-rule', 'unreachable-exception',
  'no-approved-path', 'unbounded-duration']);
let tmp, workspace;
const servers = [];

function generate(dir, rules, files) {
  execFileSync('python3', [path.join(repo, 'bench', 'gen_repo.py'), dir, '--rules', String(rules), '--files', String(files)]);
}

/// A server over `root` with its own (cold) analysis cache; records every message.
function startServer(root, cache) {
  const { proc, conn } = spawnServer(pave, { PAVE_CACHE_DIR: cache });
  const s = { proc, conn, log: [], waiters: [] };
  servers.push(proc);
  const record = (method) => (params) => {
    s.log.push({ method, params });
    for (let i = s.waiters.length - 1; i >= 0; i--) {
      if (s.waiters[i].pred(s.log[s.log.length - 1])) s.waiters.splice(i, 1)[0].resolve(s.log[s.log.length - 1]);
    }
  };
  conn.onNotification('textDocument/publishDiagnostics', record('publish'));
  conn.onNotification('pave/analysis', record('analysis'));
  conn.onNotification('pave/editedFileFindings', record('editedFile'));
  conn.listen();
  s.wait = (pred, since = 0, timeoutMs = 120000) => {
    const found = s.log.slice(since).find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching message')), timeoutMs);
      s.waiters.push({ pred, resolve: (m) => { clearTimeout(timer); resolve(m); } });
    });
  };
  s.init = () => initialize(conn, root, 'gen', { analysisEvents: true });
  return s;
}

const findings = (diags) => diags.filter((d) => ANALYZER.has(d.code));

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pave-lsp-gen-'));
  workspace = path.join(tmp, 'repo');
  generate(workspace, 500, 5);
});

after(() => {
  for (const proc of servers) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('findings stay put through a comment-only edit and a one-rule edit', async () => {
  const s = startServer(workspace, path.join(tmp, 'cache'));
  await s.init();
  const file = path.join(workspace, 'rules_004.pave');  // the last rules in source order
  const uri = pathToFileURL(file).href;
  let text = fs.readFileSync(file, 'utf8');
  s.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'pave', version: 1, text } });
  const first = await s.wait((m) => m.method === 'analysis' && !m.params.unchanged);
  assert.ok(first.params.findings > 0, 'the generated repository has findings');
  await new Promise((r) => setTimeout(r, 300));
  const published = new Map();
  for (const m of s.log) if (m.method === 'publish') published.set(m.params.uri, m.params.diagnostics);
  const before = findings(published.get(uri));
  assert.ok(before.length > 0);

  // A comment line at the top: the findings move down one line and are not withdrawn;
  // the analysis runs no query and no other file is re-published.
  let since = s.log.length;
  s.conn.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '// a note\n' }],
  });
  text = '// a note\n' + text;
  const comment = await s.wait((m) => m.method === 'analysis', since);
  assert.equal(comment.params.unchanged, true);
  assert.equal(comment.params.queries, 0);
  const pubs = s.log.slice(since).filter((m) => m.method === 'publish');
  assert.deepEqual(pubs.map((m) => m.params.uri).filter((u) => u !== uri), [], 'other files are not re-published');
  for (const m of pubs) {
    const now = findings(m.params.diagnostics);
    assert.equal(now.length, before.length, 'no finding is withdrawn');
    assert.deepEqual(now.map((d) => d.range.start.line), before.map((d) => d.range.start.line + 1));
  }

  // A duplicate of the file's first allow rule, appended: its `redundant-rule` is on the
  // new line; files whose findings did not change are not re-published.
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith('allow '));
  let end = start;
  while (!lines[end].trimEnd().endsWith(';')) end++;
  const rule = lines.slice(start, end + 1);
  rule[0] = rule[0].replace(/^allow \S+/, 'allow dup_rule');
  const at = lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
  since = s.log.length;
  s.conn.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 3 },
    contentChanges: [{ range: { start: { line: at, character: 0 }, end: { line: at, character: 0 } }, text: rule.join('\n') + '\n' }],
  });
  const dup = await s.wait((m) => m.method === 'publish' && m.params.uri === uri &&
    m.params.diagnostics.some((d) => d.code === 'redundant-rule' && d.range.start.line === at), since);
  assert.match(dup.params.diagnostics.find((d) => d.code === 'redundant-rule' && d.range.start.line === at).message, /dup_rule/);
  const done = await s.wait((m) => m.method === 'analysis', since);
  assert.equal(done.params.unchanged, false);
  await new Promise((r) => setTimeout(r, 300));
  const after = s.log.slice(since).filter((m) => m.method === 'publish');
  for (const m of after) assert.ok(findings(m.params.diagnostics).length > 0 || m.params.uri !== uri, 'no withdrawal');
  // Other files are re-published only when their findings' text changed (a re-run job can
  // find another witness); not checked here, see issue 29's report.

  // The copy removed again: the completed analysis digests again only the files whose
  // findings changed, at most the edited one (the others' findings and texts are as they
  // were; the edited file's were already made by the early publication).
  since = s.log.length;
  s.conn.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 4 },
    contentChanges: [{ range: { start: { line: at, character: 0 }, end: { line: at + rule.length, character: 0 } }, text: '' }],
  });
  const undone = await s.wait((m) => m.method === 'analysis', since);
  assert.equal(undone.params.unchanged, false);
  assert.ok(first.params.filesDigested > 1, 'the first analysis digests every file with findings');
  assert.ok(undone.params.filesDigested <= 1, `${undone.params.filesDigested} files digested again`);

  await s.conn.sendRequest('shutdown');
  const exited = new Promise((resolve) => s.proc.on('exit', resolve));
  s.conn.sendNotification('exit');
  assert.equal(await exited, 0);
});

/// The analyzer's findings of every file, as comparable strings (file, code, line, message).
function allFindings(s, root) {
  const published = new Map();
  for (const m of s.log) if (m.method === 'publish') published.set(m.params.uri, m.params.diagnostics);
  const out = [];
  for (const [uri, diags] of published)
    for (const d of findings(diags)) out.push(`${path.relative(root, new URL(uri).pathname)}:${d.range.start.line} ${d.code} ${d.message}`);
  return out.sort();
}

test('a one-rule edit re-runs only the jobs of its request type and finds what a full analysis finds', async () => {
  const s = startServer(workspace, path.join(tmp, 'cache-types'));
  await s.init();
  const file = path.join(workspace, 'rules_002.pave');
  const uri = pathToFileURL(file).href;
  const text = fs.readFileSync(file, 'utf8');
  s.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'pave', version: 1, text } });
  const first = await s.wait((m) => m.method === 'analysis' && !m.params.unchanged);
  assert.ok(first.params.jobs > 500 && first.params.typesRun.length > 1, 'the first analysis runs every type');

  // A copy of the file's first allow rule (of request type `type`), inserted after it.
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith('allow '));
  let end = start;
  while (!lines[end].trimEnd().endsWith(';')) end++;
  const rule = lines.slice(start, end + 1);
  const type = rule[0].match(/ on (\w+)/)[1];
  rule[0] = rule[0].replace(/^allow \S+/, 'allow dup_rule');
  const edited = [...lines.slice(0, end + 1), ...rule, ...lines.slice(end + 1)].join('\n');
  const since = s.log.length;
  s.conn.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 2 }, contentChanges: [{ text: edited }],
  });
  const run = await s.wait((m) => m.method === 'analysis', since);
  assert.equal(run.params.unchanged, false);
  assert.deepEqual(run.params.typesRun.map((t) => t.replace(/^.*\./, '')), [type], 'only the edited type\'s jobs ran');
  const rulesOfType = fs.readdirSync(workspace).filter((f) => f.endsWith('.pave'))
    .map((f) => fs.readFileSync(path.join(workspace, f), 'utf8').match(new RegExp(` on ${type}\\b`, 'g'))?.length ?? 0)
    .reduce((a, b) => a + b, 0);
  // The type's rules (and the copy), its exceptions' jobs and the type's own job: far fewer than all.
  assert.ok(run.params.jobs - run.params.cachedJobs <= rulesOfType + 10, `${run.params.jobs - run.params.cachedJobs} jobs ran`);
  assert.ok(run.params.cachedJobs > run.params.jobs / 2);
  const early = s.log.slice(since).findIndex((m) => m.method === 'editedFile');
  assert.ok(early >= 0, 'the edited file\'s findings were published before the analysis completed');
  assert.ok(early < s.log.slice(since).indexOf(run));
  // The early publication costs the edited file's findings, not the workspace's: only they
  // are mapped onto the edit, and no other file is re-published before them (the copy moved
  // the file's later rules down, and other files' conflicts point to them: those follow
  // with the completed analysis).
  const { remapped } = s.log.slice(since)[early].params;
  const total = first.params.findings;  // 5 files of about equal size
  assert.ok(remapped > 0 && remapped < total / 2, `${remapped} of ${total} findings re-mapped`);
  const others = s.log.slice(since, since + early).filter((m) => m.method === 'publish' && m.params.uri !== uri);
  assert.deepEqual(others.map((m) => m.params.uri), [], 'no other file is re-published before the edited file\'s findings');
  const later = s.log.slice(since + early).filter((m) => m.method === 'publish' && m.params.uri !== uri);
  assert.ok(later.length > 0, 'other files\' findings pointing into the edited file are brought up to date afterwards');
  await new Promise((r) => setTimeout(r, 300));
  const incremental = allFindings(s, workspace);
  assert.ok(incremental.some((f) => f.includes('redundant-rule') && f.includes('dup_rule')));

  // The same repository analysed from scratch (its own cold cache) finds the same.
  const copy = path.join(tmp, 'edited-copy');
  fs.cpSync(workspace, copy, { recursive: true });
  fs.writeFileSync(path.join(copy, 'rules_002.pave'), edited);
  const full = startServer(copy, path.join(tmp, 'cache-full'));
  await full.init();
  const copyUri = pathToFileURL(path.join(copy, 'rules_002.pave')).href;
  full.conn.sendNotification('textDocument/didOpen', {
    textDocument: { uri: copyUri, languageId: 'pave', version: 1, text: edited },
  });
  const fullRun = await full.wait((m) => m.method === 'analysis' && !m.params.unchanged);
  assert.equal(fullRun.params.cachedJobs, 0);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(incremental, allFindings(full, copy));
  for (const server of [s, full]) {
    await server.conn.sendRequest('shutdown');
    const exited = new Promise((resolve) => server.proc.on('exit', resolve));
    server.conn.sendNotification('exit');
    assert.equal(await exited, 0);
  }
});

test('removing a deny rule drops the other files\' conflicts with it right after the edited file\'s findings', async () => {
  const dir = path.join(tmp, 'removed');
  generate(dir, 12, 2);
  const fileA = path.join(dir, 'rules_000.pave');
  const fileB = path.join(dir, 'rules_001.pave');
  const deny = '\ndeny block_dev on Item3\n  when request.env == Env.dev;\n';
  const textA = fs.readFileSync(fileA, 'utf8') + deny;
  fs.writeFileSync(fileA, textA);
  fs.appendFileSync(fileB, '\nallow wide3 on Item3\n  when principal is Human and request.duration > 0s and request.duration <= 1h;\n');
  const s = startServer(dir, path.join(tmp, 'cache-removed'));
  await s.init();
  const uri = pathToFileURL(fileA).href;
  const uriB = pathToFileURL(fileB).href;
  s.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'pave', version: 1, text: textA } });
  await s.wait((m) => m.method === 'analysis' && !m.params.unchanged);
  await new Promise((r) => setTimeout(r, 300));
  const conflictB = (m) => m.method === 'publish' && m.params.uri === uriB &&
    m.params.diagnostics.some((d) => d.code === 'conflict' && d.message.includes('block_dev'));
  assert.ok(conflictB(s.log.filter((m) => m.method === 'publish' && m.params.uri === uriB).at(-1)),
    'the other file has a conflict with the deny rule');

  // The deny rule deleted: the conflict in the other file goes with the early publication,
  // before the analysis completes.
  const since = s.log.length;
  s.conn.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 2 }, contentChanges: [{ text: textA.slice(0, textA.length - deny.length) + '\n' }],
  });
  const run = await s.wait((m) => m.method === 'analysis', since);
  const log = s.log.slice(since);
  const early = log.findIndex((m) => m.method === 'editedFile');
  assert.ok(early >= 0 && early < log.indexOf(run), 'an early publication');
  assert.ok(log[early].params.relatedRemapped > 0, 'the other file\'s findings were mapped onto the edit');
  const republished = log.slice(0, early).filter((m) => m.method === 'publish' && m.params.uri === uriB);
  assert.equal(republished.length, 1, 'the other file is re-published before the analysis completes');
  assert.ok(!conflictB(republished[0]), 'without the conflict');
  assert.ok(findings(republished[0].params.diagnostics).length > 0, 'keeping its other findings');
  const firstPublication = log.findIndex((m) => m.method === 'publish' && findings(m.params.diagnostics).length > 0);
  assert.equal(log[firstPublication].params.uri, uri, 'the edited file\'s findings come first');
  await s.conn.sendRequest('shutdown');
  const exited = new Promise((resolve) => s.proc.on('exit', resolve));
  s.conn.sendNotification('exit');
  assert.equal(await exited, 0);
});

test('exit during a long analysis ends the process promptly', async () => {
  const big = path.join(tmp, 'big');
  generate(big, 3000, 10);
  const s = startServer(big, path.join(tmp, 'cold-cache'));
  await s.init();
  const file = path.join(big, 'rules_000.pave');
  const uri = pathToFileURL(file).href;
  s.conn.sendNotification('textDocument/didOpen', {
    textDocument: { uri, languageId: 'pave', version: 1, text: fs.readFileSync(file, 'utf8') },
  });
  await s.wait((m) => m.method === 'publish' && m.params.uri === uri);
  await new Promise((r) => setTimeout(r, 1500));  // past the quiet period: the cold analysis runs
  assert.equal(s.log.some((m) => m.method === 'analysis'), false, 'the analysis is still running');
  await s.conn.sendRequest('shutdown');
  const exited = new Promise((resolve) => s.proc.on('exit', resolve));
  const t0 = Date.now();
  s.conn.sendNotification('exit');
  const timer = setTimeout(() => s.proc.kill('SIGKILL'), 10000);
  const code = await exited;
  clearTimeout(timer);
  assert.equal(code, 0, 'the process exited by itself');
  // A bound far above the goal (1 s) and far below the cold analysis (tens of seconds).
  assert.ok(Date.now() - t0 < 5000, `exit took ${Date.now() - t0} ms`);
});
