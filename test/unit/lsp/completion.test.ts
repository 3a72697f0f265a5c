import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompletionItem } from 'vscode-languageserver';
import { describeAt } from '../../../extension/config/schemaNode';
import { registrySchema } from '../../../extension/config/registrySchema';
import { completionsAt } from '../../../extension/lsp/completion';
import type { ConfigKind } from '../../../extension/lsp/configKind';
import { textDocument } from './helpers';

/** Completions at the `|` in `marked`. */
function complete(marked: string, kind: ConfigKind = 'registry', valuesOnly = false): CompletionItem[] {
  const offset = marked.indexOf('|');
  const document = textDocument(marked.slice(0, offset) + marked.slice(offset + 1));
  return completionsAt(document, document.positionAt(offset), kind, valuesOnly);
}

const labels = (items: CompletionItem[]): string[] => items.map((i) => i.label);
const newText = (item: CompletionItem | undefined): string | undefined => (item?.textEdit && 'newText' in item.textEdit ? item.textEdit.newText : undefined);

test('keys of a server entry, minus the ones already written, while typing a partial key', () => {
  const items = complete('version: "1"\nservers:\n  - name: a\n    comm|\n');
  assert.deepEqual(labels(items), ['command', 'args', 'env', 'env_passthrough', 'tier_overrides', 'enabled', 'url', 'headers', 'auth', 'cwd', 'timeouts', 'keep_tools_when_down', 'tools']);
  const command = items[0];
  assert.equal(newText(command), 'command: ');
  // The partial word is what gets replaced.
  assert.deepEqual(command?.textEdit && 'range' in command.textEdit ? command.textEdit.range : undefined, { start: { line: 3, character: 4 }, end: { line: 3, character: 8 } });
  // Documentation is the schema's own description, not a copy.
  assert.deepEqual(command?.documentation, { kind: 'markdown', value: describeAt(registrySchema, ['servers', 0, 'command']) });
});

test('a new list item under servers: offers every server key', () => {
  const items = complete('version: "1"\nservers:\n  - |\n');
  assert.equal(items[0]?.label, 'name');
  assert.equal(items.length, 14);
});

test('top-level keys on an empty line, and nested policy keys', () => {
  assert.deepEqual(labels(complete('|\n')), ['version', 'reviewer', 'servers', 'profiles']);
  assert.deepEqual(labels(complete('autonomy_level: L1\ngateway:\n  backoff:\n    |\n', 'policy')), ['initial_ms', 'multiplier', 'max_ms', 'jitter']);
});

test('completing inside an existing key does not add a second colon', () => {
  const items = complete('ver|sion: "1"\n');
  assert.equal(newText(items.find((i) => i.label === 'version')), 'version');
});

test('enum values: autonomy levels, tiers, booleans with the default marked', () => {
  assert.deepEqual(labels(complete('autonomy_level: L|\n', 'policy')), ['L0', 'L1', 'L2', 'L3']);
  assert.deepEqual(labels(complete('version: "1"\nservers:\n  - name: a\n    command: x\n    tier_overrides:\n      drop: wr|\n')), ['read', 'write', 'destructive']);
  const enabled = complete('version: "1"\nservers:\n  - name: a\n    command: x\n    enabled: |\n');
  assert.deepEqual(labels(enabled), ['true', 'false']);
  assert.equal(enabled[0]?.detail, 'default');
  assert.equal(labels(complete('injection_detection: |\n', 'policy')).join(), 'block,warn');
});

test('version completes to the string "1", quoted unless already inside quotes', () => {
  assert.deepEqual(complete('version: |\n').map(newText), ['"1"']);
  assert.deepEqual(complete('version: "|"\n').map(newText), ['1']);
});

test('nothing inside comments, open values or record keys', () => {
  assert.deepEqual(complete('version: "1"\nservers:\n  - name: a\n    # comm|\n'), []);
  assert.deepEqual(complete('version: "1"\nservers:\n  - name: a\n    command: np|\n'), []);
  assert.deepEqual(complete('version: "1"\nservers:\n  - name: a\n    command: x\n    env:\n      |\n'), []);
});

test('the space trigger offers values after `key: ` but nothing while indenting', () => {
  assert.deepEqual(labels(complete('autonomy_level: |\n', 'policy', true)), ['L0', 'L1', 'L2', 'L3']);
  assert.deepEqual(complete('version: "1"\nservers:\n  - name: a\n    |\n', 'registry', true), []);
});
