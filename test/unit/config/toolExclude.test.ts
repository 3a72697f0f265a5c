import assert from 'node:assert/strict';
import { test } from 'node:test';
import { minimalReplacement, setToolExcluded } from '../../../extension/config/toolExclude';

const TEXT = `# my servers
version: "1"
servers:
  # the echo one
  - name: echo
    command: node   # keep me
    args: [a, b]
  - name: fs
    command: node
    tools:
      exclude:
        - delete_*   # never
`;

test('unchecking adds the exact name to exclude, creating tools: when needed; comments and layout stay', () => {
  const out = setToolExcluded(TEXT, 'echo', 'sleep', true);
  assert.ok('text' in out);
  assert.equal(out.text, TEXT.replace('    args: [a, b]\n', '    args: [a, b]\n    tools:\n      exclude:\n        - sleep\n'));
  const more = setToolExcluded(TEXT, 'fs', 'write_file', true);
  assert.ok('text' in more);
  assert.equal(more.text, TEXT.replace('        - delete_*   # never\n', '        - delete_*   # never\n        - write_file\n'));
});

test('checking removes the exact name and drops what becomes empty; patterns are left alone', () => {
  const hidden = setToolExcluded(TEXT, 'echo', 'sleep', true);
  assert.ok('text' in hidden);
  const back = setToolExcluded(hidden.text, 'echo', 'sleep', false);
  assert.deepEqual(back, { text: TEXT });
  assert.deepEqual(setToolExcluded(TEXT, 'fs', 'delete_file', false), { text: TEXT });
  assert.deepEqual(setToolExcluded(TEXT, 'echo', 'sleep', false), { text: TEXT });
});

test('errors instead of guesses', () => {
  assert.match((setToolExcluded(TEXT, 'ghost', 'x', true) as { error: string }).error, /no server 'ghost'/);
  assert.match((setToolExcluded('servers: [', 'echo', 'x', true) as { error: string }).error, /does not parse/);
  assert.match((setToolExcluded('servers:\n  - name: echo\n    tools: [x]\n', 'echo', 'x', true) as { error: string }).error, /not a mapping/);
});

test('minimalReplacement covers only the differing middle', () => {
  assert.deepEqual(minimalReplacement('abcXdef', 'abcYYdef'), { start: 3, end: 4, text: 'YY' });
  assert.deepEqual(minimalReplacement('same', 'same'), { start: 4, end: 4, text: '' });
  assert.deepEqual(minimalReplacement('aa', 'aaa'), { start: 2, end: 2, text: 'a' });
});

test('flow lists and a server that is the last line of a file without a final newline', () => {
  // A flow `tools:` falls back to the Document API: still correct, comments kept.
  const viaDoc = setToolExcluded('servers:\n  - name: a\n    command: x\n    tools: { include: ["r*"] }\n', 'a', 'rm', true);
  assert.ok('text' in viaDoc);
  assert.match(viaDoc.text, /exclude/);
  const inline = 'servers:\n  - name: a\n    command: x\n    tools:\n      exclude: [one, "two"]   # c\n';
  assert.deepEqual(setToolExcluded(inline, 'a', 'three', true), { text: inline.replace('"two"]', '"two", three]') });
  assert.deepEqual(setToolExcluded(inline, 'a', 'two', false), { text: inline.replace(', "two"', '') });
  assert.deepEqual(setToolExcluded(inline, 'a', 'one', false), { text: inline.replace('one, ', '') });
  const bare = 'servers:\n  - name: a\n    command: x';
  assert.deepEqual(setToolExcluded(bare, 'a', 'z', true), { text: `${bare}\n    tools:\n      exclude:\n        - z\n` });
});
