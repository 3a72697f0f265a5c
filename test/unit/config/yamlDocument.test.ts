import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseYamlDocument, rangeOf } from '../../../extension/config/yamlDocument';

const text = [
  'version: "1"', //                    1
  'servers:', //                        2
  '  - name: alpha', //                 3
  '    args: [a, "b${X}c"]', //         4
  '    env:', //                        5
  '      K: plain ${Y} value', //       6
  '    empty:', //                      7
  '',
].join('\n');

test('parses to a plain value with no problems', () => {
  const source = parseYamlDocument(text, 'f.yaml');
  assert.deepEqual(source.problems, []);
  assert.deepEqual(source.value, { version: '1', servers: [{ name: 'alpha', args: ['a', 'b${X}c'], env: { K: 'plain ${Y} value' }, empty: null }] });
});

test('rangeOf points at values, keys, and list items (1-based, end exclusive)', () => {
  const source = parseYamlDocument(text, 'f.yaml');
  assert.deepEqual(rangeOf(source, ['version']), { line: 1, column: 10, endLine: 1, endColumn: 13 });
  assert.deepEqual(rangeOf(source, ['version'], { at: 'key' }), { line: 1, column: 1, endLine: 1, endColumn: 8 });
  assert.deepEqual(rangeOf(source, ['servers', 0, 'name']), { line: 3, column: 11, endLine: 3, endColumn: 16 });
  assert.deepEqual(rangeOf(source, ['servers', 0, 'args', 1]), { line: 4, column: 15, endLine: 4, endColumn: 23 });
});

test('a collection value is pointed at by its key, not the whole block', () => {
  const source = parseYamlDocument(text, 'f.yaml');
  assert.deepEqual(rangeOf(source, ['servers']), { line: 2, column: 1, endLine: 2, endColumn: 8 });
  assert.deepEqual(rangeOf(source, ['servers', 0, 'env']), { line: 5, column: 5, endLine: 5, endColumn: 8 });
  // A list item has no key: its first line.
  assert.deepEqual(rangeOf(source, ['servers', 0]), { line: 3, column: 5, endLine: 3, endColumn: 16 });
});

test('an empty value (`key:`) is pointed at by its key', () => {
  const source = parseYamlDocument(text, 'f.yaml');
  assert.deepEqual(rangeOf(source, ['servers', 0, 'empty']), { line: 7, column: 5, endLine: 7, endColumn: 10 });
});

test('a missing path falls back to the nearest existing parent', () => {
  const source = parseYamlDocument(text, 'f.yaml');
  assert.deepEqual(rangeOf(source, ['servers', 0, 'command']), rangeOf(source, ['servers', 0]));
  assert.deepEqual(rangeOf(source, ['servers', 0, 'env', 'NOPE']), rangeOf(source, ['servers', 0, 'env']));
  assert.deepEqual(rangeOf(source, ['servers', 5, 'name']), rangeOf(source, ['servers']));
  assert.deepEqual(rangeOf(source, ['servers', 0, 'name', 'deeper']), rangeOf(source, ['servers', 0, 'name']));
});

test('span narrows to part of a string when its source maps 1:1', () => {
  const source = parseYamlDocument(text, 'f.yaml');
  // Plain scalar: "plain ${Y} value", ${Y} at offset 6.
  assert.deepEqual(rangeOf(source, ['servers', 0, 'env', 'K'], { span: { offset: 6, length: 4 } }), { line: 6, column: 16, endLine: 6, endColumn: 20 });
  // Double-quoted without escapes: skip the quote.
  assert.deepEqual(rangeOf(source, ['servers', 0, 'args', 1], { span: { offset: 1, length: 4 } }), { line: 4, column: 17, endLine: 4, endColumn: 21 });
  // With an escape the mapping is unknown: the whole scalar.
  const escaped = parseYamlDocument('a: "\\t${X}"\n', 'f.yaml');
  assert.deepEqual(rangeOf(escaped, ['a'], { span: { offset: 1, length: 4 } }), { line: 1, column: 4, endLine: 1, endColumn: 12 });
});

test('an empty document has a value of null and ranges at 1:1', () => {
  const source = parseYamlDocument('# comment only\n', 'f.yaml');
  assert.equal(source.value, null);
  assert.deepEqual(rangeOf(source, ['servers']), { line: 1, column: 1, endLine: 1, endColumn: 1 });
});

test('YAML errors become positioned problems, and no value is produced', () => {
  const source = parseYamlDocument('a: 1\na: 2\n', 'f.yaml');
  assert.equal(source.value, undefined);
  assert.deepEqual(source.problems, [
    {
      file: 'f.yaml',
      line: 2,
      column: 1,
      endLine: 2,
      endColumn: 2,
      severity: 'error',
      code: 'yaml-duplicate-key',
      message: 'Map keys must be unique; remove or rename the repeated key (each key may appear once per mapping)',
    },
  ]);
  const tabs = parseYamlDocument('a:\n\tb: 1\n', 'f.yaml');
  assert.ok(tabs.problems.some((p) => p.severity === 'error' && p.line === 2));
  const multi = parseYamlDocument('a: 1\n---\nb: 2\n', 'f.yaml');
  assert.equal(multi.problems[0]?.code, 'yaml-multiple-docs');
  assert.match(multi.problems[0]?.message ?? '', /keep a single YAML document/);
});

test('an unresolved tag is a warning, not an error', () => {
  const source = parseYamlDocument('a: !custom x\n', 'f.yaml');
  assert.deepEqual(source.value, { a: 'x' });
  assert.equal(source.problems[0]?.severity, 'warning');
  assert.equal(source.problems[0]?.line, 1);
});

test('alias bombs are stopped', () => {
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 8; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
  const source = parseYamlDocument(lines.join('\n'), 'f.yaml');
  assert.equal(source.value, undefined);
  assert.equal(source.problems[0]?.code, 'yaml-aliases');
});

test('CRLF line endings and a BOM do not shift positions', () => {
  const source = parseYamlDocument('\uFEFFa: 1\r\nb: x\r\n', 'f.yaml');
  assert.deepEqual(source.problems, []);
  assert.deepEqual(rangeOf(source, ['b']), { line: 2, column: 4, endLine: 2, endColumn: 5 });
});
