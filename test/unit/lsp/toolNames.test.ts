import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompletionItem } from 'vscode-languageserver';
import { completionsAt } from '../../../extension/lsp/completion';
import { hoverAt } from '../../../extension/lsp/hover';
import { validateConfig } from '../../../extension/lsp/validate';
import { textDocument } from './helpers';

const listing = new Map([
  ['echo', ['echo', 'sleep', 'write']],
  ['fs', ['read_file', 'write_file']],
]);

function complete(marked: string): CompletionItem[] {
  const offset = marked.indexOf('|');
  const document = textDocument(marked.slice(0, offset) + marked.slice(offset + 1));
  return completionsAt(document, document.positionAt(offset), 'registry', false, listing);
}
const labels = (items: CompletionItem[]) => items.map((i) => i.label);
const HEAD = 'version: "1"\nservers:\n  - name: echo\n    command: node\n  - name: fs\n    command: node\n';

test("tools.exclude items complete the server's own tool names from the last listing", () => {
  assert.deepEqual(labels(complete(`${HEAD}    tools:\n      exclude:\n        - wr|\n`)), ['read_file', 'write_file']);
  const first = complete('version: "1"\nservers:\n  - name: echo\n    command: node\n    tools:\n      include:\n        - |\n');
  assert.deepEqual(labels(first), ['echo', 'sleep', 'write']);
  assert.deepEqual(first[2]?.textEdit && 'newText' in first[2].textEdit ? first[2].textEdit.newText : undefined, 'write');
  // A server that never listed: nothing to offer (and no schema keys either).
  assert.deepEqual(labels(complete('version: "1"\nservers:\n  - name: other\n    command: node\n    tools:\n      include:\n        - |\n')), []);
});

test('profile tools complete server__tool names of the profile servers', () => {
  assert.deepEqual(labels(complete(`${HEAD}profiles:\n  review:\n    servers: [fs]\n    tools:\n      - |\n`)), ['fs__read_file', 'fs__write_file']);
  assert.equal(complete(`${HEAD}profiles:\n  all:\n    tools:\n      - |\n`).length, 5);
});

test('a pattern that matches no listed tool is a warning on that pattern; a profile with an unknown server an error', () => {
  const text = `${HEAD.replace('    command: node\n  - name: fs', '    command: node\n    tools:\n      exclude: [sleep, "slep*"]\n  - name: fs')}profiles:\n  review:\n    servers: [fs, ghost]\n  reads:\n    servers: [fs]\n    tools: ["fs__read_*", "echo__*"]\n`;
  const { diagnostics } = validateConfig({ file: '/w/.gatehouse/registry.yaml', text, kind: 'registry' }, { env: {}, toolListing: listing });
  const summary = diagnostics.map((d) => [d.code, d.severity, d.range.start.line, d.range.start.character, d.message.slice(0, 30)]);
  assert.deepEqual(summary, [
    ['tool-glob-unmatched', 2, 5, 23, "'slep*' matches no tool of 'ec"],
    ['unknown-profile-server', 1, 10, 18, "profile 'review' names server "],
    ['tool-glob-unmatched', 2, 13, 26, "'echo__*' matches no tool of p"],
  ]);
  // No listing: no guess.
  assert.deepEqual(validateConfig({ file: '/w/.gatehouse/registry.yaml', text, kind: 'registry' }, { env: {} }).diagnostics.map((d) => d.code), ['unknown-profile-server']);
});

test('hover on tools: and profiles: shows the schema description', () => {
  const document = textDocument(`${HEAD}    tools:\n      exclude: [x]\nprofiles: {}\n`);
  const tools = hoverAt(document, { line: 6, character: 5 }, 'registry', {});
  assert.match(JSON.stringify(tools?.contents), /Which of the server's tools clients see/);
  const profiles = hoverAt(document, { line: 8, character: 2 }, 'registry', {});
  assert.match(JSON.stringify(profiles?.contents), /Client profiles/);
});
