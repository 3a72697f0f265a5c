import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Hover } from 'vscode-languageserver';
import { describeAt } from '../../../extension/config/schemaNode';
import { policySchema } from '../../../extension/config/policySchema';
import { registrySchema } from '../../../extension/config/registrySchema';
import type { ConfigKind } from '../../../extension/lsp/configKind';
import { hoverAt } from '../../../extension/lsp/hover';
import { textDocument } from './helpers';

function hover(marked: string, kind: ConfigKind = 'registry', env: Record<string, string> = {}): Hover | null {
  const offset = marked.indexOf('|');
  const document = textDocument(marked.slice(0, offset) + marked.slice(offset + 1));
  return hoverAt(document, document.positionAt(offset), kind, env);
}

const value = (h: Hover | null): string => (h && typeof h.contents === 'object' && 'value' in h.contents ? h.contents.value : '');

test('hover over a key shows its path, type and the schema description, over the key range', () => {
  const h = hover('version: "1"\nservers:\n  - name: a\n    com|mand: x\n');
  assert.equal(value(h), `**servers[].command** · string\n\n${describeAt(registrySchema, ['servers', 0, 'command'])}`);
  assert.deepEqual(h?.range, { start: { line: 3, character: 4 }, end: { line: 3, character: 11 } });
});

test('hover over a value adds the allowed values and the default', () => {
  const text = value(hover('version: "1"\nservers:\n  - name: a\n    command: x\n    enabled: fa|lse\n'));
  assert.match(text, /^\*\*servers\[\]\.enabled\*\* · boolean\n\nfalse keeps the entry/);
  assert.match(text, /Allowed: `true` · `false`/);
  assert.match(text, /Default: `true`/);
  assert.match(value(hover('autonomy_level: L|1\n', 'policy')), /Allowed: `L0` · `L1` · `L2` · `L3`/);
});

test('the autonomy_level hover gives the one meaning of L2: read and write, destructive denied', () => {
  const text = value(hover('autonomy_level: L|2\n', 'policy'));
  assert.match(text, /L1 and L2 read and write, destructive denied/);
  assert.match(text, /L3 also destructive/);
});

test('every described field of both schemas has a hover (docs come from .describe())', () => {
  const h = hover('autonomy_level: L1\ngateway:\n  breaker:\n    cool|down_ms: 10\n', 'policy');
  assert.match(value(h), new RegExp(`^\\*\\*gateway\\.breaker\\.cooldown_ms\\*\\* · number\\n\\n${escape(describeAt(policySchema, ['gateway', 'breaker', 'cooldown_ms']))}`));
});

test('a list item is described by its list', () => {
  assert.match(value(hover('version: "1"\nservers:\n  - name: a\n    command: x\n    env_passthrough: [A, B|B]\n')), /^\*\*servers\[\]\.env_passthrough\*\* · list\n\nHost environment variables/);
});

test('over a ${NAME}, says whether it is set for the gateway, never its value', () => {
  const doc = 'version: "1"\nservers:\n  - name: a\n    command: x\n    args: ["${TO|KEN}", "${OTHER}"]\n';
  const set = value(hover(doc, 'registry', { TOKEN: 'super-secret' }));
  assert.match(set, /`\$\{TOKEN\}` is set in the environment the gateway sees\./);
  assert.doesNotMatch(set, /super-secret/);
  assert.match(value(hover(doc, 'registry', {})), /`\$\{TOKEN\}` is \*\*not set\*\*/);
});

test('a map entry is described by its map; nothing outside any node or the schema', () => {
  assert.match(value(hover('version: "1"\nservers:\n  - name: a\n    command: x\n    env:\n      FO|O: bar\n')), /^\*\*servers\[\]\.env\*\* · mapping\n\nEnvironment variables set/);
  assert.equal(hover('| \n'), null);
  assert.equal(hover('autonomy_level: L1\ncontext_protection:\n  some_fu|ture_key: 1\n', 'policy')?.contents !== undefined, true);
});

function escape(text: string | undefined): string {
  return (text ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
