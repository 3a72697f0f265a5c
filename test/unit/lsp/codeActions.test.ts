import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CodeAction } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { parseRegistry } from '../../../extension/config/loadConfig';
import { quickFixes } from '../../../extension/lsp/codeActions';
import { validateConfig } from '../../../extension/lsp/validate';
import { configFixture, textDocument } from './helpers';

const FILE = '/w/.gatehouse/registry.yaml';

/** Every quick fix for every diagnostic of `text`, each with the text it produces. */
function fixes(text: string): { action: CodeAction; result: string }[] {
  const document = textDocument(text);
  const { diagnostics } = validateConfig({ file: FILE, text, kind: 'registry' }, { env: {} });
  return quickFixes(document, 'registry', diagnostics).map((action) => {
    const edits = action.edit?.changes?.[document.uri] ?? [];
    assert.equal(edits.length, 1, 'one edit per fix');
    return { action, result: TextDocument.applyEdits(document, edits) };
  });
}

/** The fixed file must have no errors left (warnings are fine). */
function assertClean(text: string): void {
  const errors = parseRegistry(text, FILE).problems.filter((p) => p.severity === 'error');
  assert.deepEqual(errors, []);
}

test('duplicate-server-name: rename the later entry to <name>-2', () => {
  const [fix, ...rest] = fixes(configFixture('duplicate-name.registry.yaml').text);
  assert.equal(rest.length, 0);
  assert.equal(fix?.action.title, "Rename this 'memory' to 'memory-2'");
  assert.equal(fix?.action.kind, 'quickfix');
  assert.equal(fix?.action.isPreferred, true);
  assert.equal(fix?.action.diagnostics?.[0]?.code, 'duplicate-server-name');
  assert.equal(fix?.result, 'version: "1"\nservers:\n  - name: memory\n    command: npx\n  - name: files\n    command: npx\n  - name: memory-2\n    command: node\n');
  assertClean(fix?.result ?? '');
});

test('the rename skips suffixes already taken', () => {
  const [fix] = fixes('version: "1"\nservers:\n  - name: m\n    command: a\n  - name: m-2\n    command: b\n  - name: m\n    command: c\n');
  assert.equal(fix?.action.title, "Rename this 'm' to 'm-3'");
});

test("invalid-server-name: replace '_' with '-' (the message's own suggestion); reserved names get -server", () => {
  const [underscore] = fixes(configFixture('invalid-server-name.registry.yaml').text);
  assert.equal(underscore?.action.title, "Rename 'my_server' to 'my-server'");
  assert.equal(underscore?.result, 'version: "1"\nservers:\n  - name: my-server\n    command: node\n');
  const [reserved] = fixes(configFixture('reserved-server-name.registry.yaml').text);
  assert.equal(reserved?.action.title, "Rename 'gatehouse' to 'gatehouse-server'");
  assertClean(reserved?.result ?? '');
});

test('secret-passthrough: move the name from a flow list into a new env: mapping', () => {
  const [fix] = fixes(configFixture('secret-passthrough.registry.yaml').text);
  assert.equal(fix?.action.title, 'Move GITHUB_TOKEN to env: { GITHUB_TOKEN: "${GITHUB_TOKEN}" }');
  assert.equal(
    fix?.result,
    'version: "1"\nservers:\n  - name: github\n    command: npx\n    env:\n      GITHUB_TOKEN: "${GITHUB_TOKEN}"\n    env_passthrough: [HTTPS_PROXY]\n',
  );
  assertClean(fix?.result ?? '');
});

test('secret-passthrough: block list into an existing env (comments kept), and a last item removes the key', () => {
  const text = configFixture('lsp/secret-passthrough-block.registry.yaml').text;
  const [github, slack] = fixes(text);
  assert.equal(
    github?.result,
    text.replace('      LOG_LEVEL: debug # kept as written\n', '      LOG_LEVEL: debug # kept as written\n      GITHUB_TOKEN: "${GITHUB_TOKEN}"\n').replace('      - GITHUB_TOKEN\n', ''),
  );
  assert.equal(slack?.result, text.replace('    env_passthrough: [SLACK_BOT_TOKEN]\n', '    env:\n      SLACK_BOT_TOKEN: "${SLACK_BOT_TOKEN}"\n'));
  for (const fix of [github, slack]) assert.equal(parseRegistry(fix?.result ?? '', FILE).problems.filter((p) => p.code === 'secret-passthrough').length, 1);
});

test('secret-passthrough: flow env mappings, empty env:, and passthrough as the first key of an item', () => {
  const flow = fixes('version: "1"\nservers:\n  - name: a\n    command: npx\n    env: {A: b}\n    env_passthrough: [API_KEY, X]\n')[0];
  assert.equal(flow?.result, 'version: "1"\nservers:\n  - name: a\n    command: npx\n    env: {A: b, API_KEY: "${API_KEY}"}\n    env_passthrough: [X]\n');
  const empty = fixes('version: "1"\nservers:\n  - name: a\n    command: npx\n    env:\n    env_passthrough: [API_KEY]\n')[0];
  assert.equal(empty?.result, 'version: "1"\nservers:\n  - name: a\n    command: npx\n    env:\n      API_KEY: "${API_KEY}"\n');
  const first = fixes('version: "1"\nservers:\n  - env_passthrough: [API_KEY]\n    name: a\n    command: npx\n')[0];
  assert.equal(first?.result, 'version: "1"\nservers:\n  - env_passthrough: []\n    name: a\n    command: npx\n    env:\n      API_KEY: "${API_KEY}"\n');
  for (const fix of [flow, empty, first]) assertClean(fix?.result ?? '');
});

test('an existing env entry of the same name is kept; only the passthrough entry goes', () => {
  const [fix] = fixes('version: "1"\nservers:\n  - name: a\n    command: npx\n    env:\n      API_KEY: "${OTHER}"\n    env_passthrough: [X, API_KEY]\n');
  assert.equal(fix?.result, 'version: "1"\nservers:\n  - name: a\n    command: npx\n    env:\n      API_KEY: "${OTHER}"\n    env_passthrough: [X]\n');
});

test('no fix is offered where the layout is not understood (flow server entry)', () => {
  assert.deepEqual(fixes('version: "1"\nservers:\n  - { name: a, command: npx, env_passthrough: [API_KEY] }\n'), []);
});

test('no fixes in a policy file or for diagnostics without a mechanical fix', () => {
  const document = textDocument('autonomy_level: L9\n', 'file:///w/.gatehouse/policy.yaml');
  const { diagnostics } = validateConfig({ file: '/w/.gatehouse/policy.yaml', text: document.getText(), kind: 'policy' }, { env: {} });
  assert.equal(diagnostics.length, 1);
  assert.deepEqual(quickFixes(document, 'policy', diagnostics), []);
  assert.deepEqual(fixes(configFixture('unknown-key.registry.yaml').text), []);
});
