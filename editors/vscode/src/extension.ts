// The Pave extension: a TextMate grammar (declared in package.json) and a language client
// that runs `pave lsp` over stdio for diagnostics, hover, navigation, completion and
// formatting.
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from 'vscode-languageclient/node';

let client: LanguageClient | undefined;

function paveCommand(): string {
  const configured = vscode.workspace.getConfiguration('pave').get<string>('path');
  return configured && configured.trim() !== '' ? configured.trim() : 'pave';
}

function serverOptions(): ServerOptions {
  const executable = { command: paveCommand(), args: ['lsp'], transport: TransportKind.stdio };
  return { run: executable, debug: executable };
}

function clientOptions(): LanguageClientOptions {
  return {
    documentSelector: [
      { scheme: 'file', language: 'pave' },
      { scheme: 'untitled', language: 'pave' },
    ],
    synchronize: {
      // The server re-reads files that change on disk (a workspace is one compilation unit).
      fileEvents: [
        vscode.workspace.createFileSystemWatcher('**/*.pave'),
        vscode.workspace.createFileSystemWatcher('**/pave.toml'),
        // Tables' data files (SPEC §2.3): a change is read again and checked.
        vscode.workspace.createFileSystemWatcher('**/*.{json,jsonl}'),
      ],
    },
  };
}

async function start(): Promise<void> {
  client = new LanguageClient('pave', 'Pave Language Server', serverOptions(), clientOptions());
  try {
    await client.start();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    void vscode.window.showErrorMessage(
      `Cannot start the Pave language server (\`${paveCommand()} lsp\`): ${message}. ` +
        'Set `pave.path` to the `pave` executable.');
  }
}

async function stop(): Promise<void> {
  if (!client) return;
  const running = client;
  client = undefined;
  try {
    await running.stop();
  } catch {
    // The server may already be gone; nothing to clean up.
  }
}

async function restart(): Promise<void> {
  await stop();
  await start();
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand('pave.restartServer', restart),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('pave.path')) void restart();
    }),
  );
  await start();
}

export function deactivate(): Promise<void> {
  return stop();
}
