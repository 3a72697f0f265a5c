import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkInterpolationSyntax, interpolate, InterpolationError, referencedNames } from '../../../extension/config/interpolate';

test('replaces several placeholders in one value', () => {
  assert.deepEqual(interpolate('Bearer ${A}-${B}', { A: 'x', B: 'y' }), { value: 'Bearer x-y', missing: [] });
  assert.deepEqual(interpolate('${A}${A}', { A: '1' }), { value: '11', missing: [] });
});

test('a value without placeholders is returned as is', () => {
  assert.deepEqual(interpolate('plain', {}), { value: 'plain', missing: [] });
  assert.deepEqual(interpolate('', {}), { value: '', missing: [] });
});

test('only ${NAME}: $NAME, defaults and lone $ or } are literal text', () => {
  assert.deepEqual(interpolate('$HOME and $ and } and {A}', { HOME: '/h', A: 'a' }), { value: '$HOME and $ and } and {A}', missing: [] });
  assert.deepEqual(interpolate('$${A}', { A: 'a' }), { value: '$a', missing: [] });
  assert.throws(() => interpolate('${A:-fallback}', {}), InterpolationError);
});

test('missing variables are listed once, in first-seen order, and stay literal', () => {
  const result = interpolate('${B}/${A}/${B}/${C}', { C: 'c' });
  assert.deepEqual(result, { value: '${B}/${A}/${B}/c', missing: ['B', 'A'] });
});

test('a non-string host value counts as missing', () => {
  assert.deepEqual(interpolate('${N}', { N: 42 }), { value: '${N}', missing: ['N'] });
  assert.deepEqual(interpolate('${U}', { U: undefined }), { value: '${U}', missing: ['U'] });
});

test('names never resolve through the prototype chain', () => {
  assert.deepEqual(interpolate('${constructor}', {}), { value: '${constructor}', missing: ['constructor'] });
});

test('an empty host string is a value, not missing', () => {
  assert.deepEqual(interpolate('a${E}b', { E: '' }), { value: 'ab', missing: [] });
});

test('no recursion: a resolved value containing ${…} stays literal', () => {
  assert.deepEqual(interpolate('${A}', { A: '${B}', B: 'nope' }), { value: '${B}', missing: [] });
  // Even a resolved value with broken syntax is not scanned again.
  assert.deepEqual(interpolate('${A}', { A: '${' }), { value: '${', missing: [] });
});

test('syntax errors throw InterpolationError with the offset of the ${', () => {
  const cases: [string, number, RegExp][] = [
    ['${}', 0, /^empty placeholder/],
    ['ab${}', 2, /^empty placeholder/],
    ['x${1A}', 1, /^invalid variable name '1A'/],
    ['${A B}', 0, /^invalid variable name 'A B'/],
    ['${A-B}', 0, /^invalid variable name 'A-B'/],
    ['ok ${A} then ${B', 13, /^unterminated '\$\{' at offset 13/],
    ['${A${B}', 0, /^invalid variable name 'A\$\{B'/],
  ];
  for (const [value, offset, message] of cases) {
    assert.throws(
      () => interpolate(value, { A: 'a', B: 'b' }),
      (err: unknown) => err instanceof InterpolationError && err.offset === offset && message.test(err.message),
      value,
    );
    const checked = checkInterpolationSyntax(value);
    assert.equal(checked?.offset, offset, value);
    assert.match(checked?.message ?? '', message);
  }
});

test('checkInterpolationSyntax is null for valid values and does not need the env', () => {
  assert.equal(checkInterpolationSyntax('${A_1}/${_b}'), null);
  assert.equal(checkInterpolationSyntax('no placeholders'), null);
});

test('referencedNames lists each name once', () => {
  assert.deepEqual(referencedNames('${B}${A}${B}'), ['B', 'A']);
});
