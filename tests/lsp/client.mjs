// Shared by the editor tests: `pave lsp` as a child process that the test talks LSP to
// through vscode-languageserver-protocol.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as rpc from 'vscode-languageserver-protocol/node.js';

/// Starts `pave lsp` (extra environment `env`); returns the process and its connection (not listening yet).
export function spawnServer(pave, env = {}) {
  const proc = spawn(pave, ['lsp'], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const conn = rpc.createProtocolConnection(new rpc.StreamMessageReader(proc.stdout), new rpc.StreamMessageWriter(proc.stdin));
  return { proc, conn };
}

/// The `initialize` request over the workspace folder `root` and the `initialized` notification;
/// returns the server's InitializeResult.
export async function initialize(conn, root, name, initializationOptions = undefined) {
  const result = await conn.sendRequest('initialize', {
    processId: process.pid,
    rootUri: pathToFileURL(root).href,
    workspaceFolders: [{ uri: pathToFileURL(root).href, name }],
    capabilities: {},
    ...(initializationOptions ? { initializationOptions } : {}),
  });
  conn.sendNotification('initialized', {});
  return result;
}

/// The line and character of `needle` in `text` (plus `offsetInNeedle` characters).
export function positionOf(text, needle, offsetInNeedle = 0) {
  const at = text.indexOf(needle);
  assert.ok(at >= 0, `${needle} not found`);
  const before = text.slice(0, at + offsetInNeedle).split('\n');
  return { line: before.length - 1, character: before[before.length - 1].length };
}

/// A server over a fresh temporary copy of the folder `source` (named `name`), initialized,
/// keeping the latest diagnostics published for each URI. stop() shuts it down (asserting a
/// clean exit) and removes the copy.
export async function startWorkspace({ pave, source, name, env = {} }) {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), `pave-lsp-${name}-`));
  fs.cpSync(source, workspace, { recursive: true });
  const { proc, conn } = spawnServer(pave, env);
  const published = new Map();  // uri → latest diagnostics
  const waiters = [];
  conn.onNotification('textDocument/publishDiagnostics', (p) => {
    published.set(p.uri, p.diagnostics);
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i].uri === p.uri && waiters[i].pred(p.diagnostics)) waiters.splice(i, 1)[0].resolve(p.diagnostics);
    }
  });
  conn.listen();
  const init = await initialize(conn, workspace, name);
  return {
    workspace, conn, published, init,
    uriOf: (file) => pathToFileURL(path.join(workspace, file)).href,
    /// Resolves with the next diagnostics for `uri` that satisfy `pred`.
    diagnosticsFor(uri, pred = () => true, timeoutMs = 20000) {
      const current = published.get(uri);
      if (current && pred(current)) return Promise.resolve(current);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching diagnostics for ${uri}`)), timeoutMs);
        waiters.push({ uri, pred, resolve: (d) => { clearTimeout(timer); resolve(d); } });
      });
    },
    async stop() {
      await conn.sendRequest('shutdown');
      const exited = new Promise((resolve) => proc.on('exit', resolve));
      conn.sendNotification('exit');
      assert.equal(await exited, 0);
      fs.rmSync(workspace, { recursive: true, force: true });
    },
  };
}
