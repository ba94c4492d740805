// The VS Code TextMate grammar (editors/vscode/syntaxes/pave.tmLanguage.json) over every
// policy of the repository: no region (string, block comment) may stay open at the end of
// a file, no text may fall outside the grammar's scopes where a token is expected, and key
// tokens get their scopes. Environment: REPO (the repository root).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import vsctm from 'vscode-textmate';
import oniguruma from 'vscode-oniguruma';

const require = createRequire(import.meta.url);
const repo = process.env.REPO;
const grammarPath = path.join(repo, 'editors/vscode/syntaxes/pave.tmLanguage.json');

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope) =>
      scope === 'source.pave' ? vsctm.parseRawGrammar(fs.readFileSync(grammarPath, 'utf8'), grammarPath) : null,
  });
  return registry.loadGrammar('source.pave');
}

function paveFiles(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== 'node_modules') out.push(...paveFiles(p));
    else if (entry.isFile() && entry.name.endsWith('.pave')) out.push(p);
  }
  return out;
}

/// Tokenizes a text; returns every token with its scopes and the rule stack at the end.
function tokenize(grammar, text) {
  let stack = vsctm.INITIAL;
  const tokens = [];
  text.split('\n').forEach((line, lineNo) => {
    const r = grammar.tokenizeLine(line, stack);
    for (const t of r.tokens) tokens.push({ line: lineNo, text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes });
    stack = r.ruleStack;
  });
  return { tokens, stack };
}

const grammar = await loadGrammar();

test('every policy of the repository ends with no region left open', () => {
  const files = [...paveFiles(path.join(repo, 'examples')), ...paveFiles(path.join(repo, 'stdlib')),
                 ...paveFiles(path.join(repo, 'tests/check'))];
  assert.ok(files.length > 20);
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    // A file that tests an unterminated comment or string may legitimately end inside one.
    if (/unterminated/.test(file)) continue;
    const { stack } = tokenize(grammar, text);
    assert.equal(stack.depth, 1, `${path.relative(repo, file)} ends inside an open region`);
  }
});

test('words and literals of the examples carry their scopes', () => {
  const text = fs.readFileSync(path.join(repo, 'examples/policies/cloud.pave'), 'utf8');
  const { tokens } = tokenize(grammar, text);
  const scopeOf = (word) => tokens.find((t) => t.text === word)?.scopes.join(' ') ?? '';
  assert.match(scopeOf('allow'), /keyword\.control\.effect/);
  assert.match(scopeOf('human_nonprod'), /entity\.name\.function\.rule/);
  assert.match(scopeOf('when'), /keyword\.control\.clause/);
  assert.match(scopeOf('4h'), /constant\.numeric\.duration/);
  assert.match(scopeOf('"sre-leads"') || tokens.find((t) => t.text === 'sre-leads')?.scopes.join(' '), /string\.quoted/);
  assert.match(scopeOf('/// Developers self-serve roles in dev and staging accounts for up to four hours.'),
               /comment\.line\.documentation/);
  assert.match(scopeOf('principal'), /variable\.language\.root/);
});

test('contextual words are names after a dot and keywords at clause starts', () => {
  const { tokens } = tokenize(grammar, 'approve r on T\n  by request.owner + "-leads"\n  grant max_ttl = 1h;\n');
  const owner = tokens.find((t) => t.text === 'owner');
  assert.doesNotMatch(owner.scopes.join(' '), /keyword/);
  assert.match(tokens.find((t) => t.text === 'by').scopes.join(' '), /keyword\.control\.clause/);
  assert.match(tokens.find((t) => t.text === 'grant').scopes.join(' '), /keyword\.control\.clause/);
});

test('an unterminated string ends at the end of its line', () => {
  const { stack } = tokenize(grammar, 'deny d on T because "no end\nallow a on T;\n');
  assert.equal(stack.depth, 1);
});

test('the open-region check sees an unterminated block comment', () => {
  const { stack } = tokenize(grammar, 'allow a on T; /* never closed\nallow b on T;\n');
  assert.ok(stack.depth > 1);
});
