import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CanonicalJsonError, canonicalJson, isWellFormedString } from '../../../extension/gateway/audit/canonicalJson';

describe('canonicalJson', () => {
  it('sorts keys at every level and writes no whitespace', () => {
    const value = { b: 1, a: { d: [1, { z: true, y: null }], c: 'x' } };
    assert.equal(canonicalJson(value), '{"a":{"c":"x","d":[1,{"y":null,"z":true}]},"b":1}');
  });

  it('does not depend on the order in which keys were inserted', () => {
    const one = { tool_name: 't', metadata: { x: 1, y: [2, 3] }, status: 'allowed' };
    const two = { status: 'allowed', metadata: { y: [2, 3], x: 1 }, tool_name: 't' };
    assert.equal(canonicalJson(one), canonicalJson(two));
  });

  it('sorts by UTF-16 code units and stays a fixed point through JSON.parse even with integer-like keys', () => {
    const value = { z: 1, Z: 2, '10': 3, '9': 4, é: 5, a: 6 };
    const text = canonicalJson(value);
    assert.equal(text, '{"10":3,"9":4,"Z":2,"a":6,"z":1,"é":5}');
    // JSON.parse puts integer-like keys first in numeric order; canonicalJson sorts again.
    assert.equal(canonicalJson(JSON.parse(text)), text);
  });

  it('writes strings and numbers exactly as JSON.stringify does; omits undefined properties; -0 is 0', () => {
    assert.equal(canonicalJson('a"b\\c\n\u0001€😀'), JSON.stringify('a"b\\c\n\u0001€😀'));
    assert.equal(canonicalJson([1.5, 1e21, 0.1, -0]), '[1.5,1e+21,0.1,0]');
    assert.equal(canonicalJson({ a: undefined, b: 2 }), '{"b":2}');
    assert.equal(canonicalJson(null), 'null');
    assert.equal(canonicalJson(Object.assign(Object.create(null) as object, { k: 'v' })), '{"k":"v"}');
  });

  it('refuses everything JSON.parse would not give back unchanged, naming the path', () => {
    const refused: Array<[string, unknown, string]> = [
      ['bigint', { a: 1n }, '$.a'],
      ['NaN', { n: Number.NaN }, '$.n'],
      ['Infinity', [Infinity], '$[0]'],
      ['function', { f: () => 1 }, '$.f'],
      ['symbol', { s: Symbol('x') }, '$.s'],
      ['undefined in an array', [1, undefined], '$[1]'],
      ['sparse array', [1, , 3], '$[1]'],
      ['Date', { d: new Date(0) }, '$.d'],
      ['Map', { m: new Map() }, '$.m'],
      ['class instance', { c: new (class Thing {})() }, '$.c'],
      ['toJSON trap', { t: { toJSON: () => 'looks innocent' } }, '$.t.toJSON'],
      ['lone high surrogate', { e: 'cut \ud83d' }, '$.e'],
      ['lone low surrogate', ['\ude00x'], '$[0]'],
      ['lone surrogate in a key', { ['k\ud800']: 1 }, '$.k\ud800'],
      ['top-level undefined', undefined, '$'],
    ];
    for (const [what, value, where] of refused) {
      assert.throws(
        () => canonicalJson(value),
        (err: unknown) => err instanceof CanonicalJsonError && err.path === where,
        `${what} should be refused at ${where}`,
      );
    }
  });

  it('refuses cycles and excessive depth, but allows the same object twice', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    assert.throws(() => canonicalJson(cyclic), /circular reference at \$\.self/);
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    assert.throws(() => canonicalJson(deep), /nesting deeper than/);
    const shared = { x: 1 };
    assert.equal(canonicalJson({ a: shared, b: shared }), '{"a":{"x":1},"b":{"x":1}}');
  });

  it('orders any number of keys as Array.prototype.sort does, in whatever order they were inserted (small objects are sorted by insertion)', () => {
    // Integer-like, upper and lower case, accented, astral (a surrogate pair sorts below U+E000), empty.
    const pool = ['z', 'Z', '10', '9', '', 'é', 'a', 'ab', 'a b', '😀', '\ue000', 'ä', '_', 'tier', 'tier_source', 'b'];
    let seed = 7;
    const random = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let size = 0; size <= pool.length; size++) {
      for (let round = 0; round < 20; round++) {
        const keys = [...pool];
        for (let i = keys.length - 1; i > 0; i--) {
          const j = random(i + 1);
          [keys[i], keys[j]] = [keys[j]!, keys[i]!];
        }
        const chosen = keys.slice(0, size);
        const value: Record<string, number> = {};
        chosen.forEach((k, i) => (value[k] = i));
        const expected = `{${[...chosen].sort().map((k) => `${JSON.stringify(k)}:${value[k]}`).join(',')}}`;
        assert.equal(canonicalJson(value), expected);
        assert.equal(canonicalJson({ nested: value }), `{"nested":${expected}}`);
      }
    }
  });

  it('writes a key the same way every time it is seen, and refuses a bad key every time', () => {
    for (let i = 0; i < 3; i++) {
      assert.equal(canonicalJson({ 'a"b\\c\n': 1, ['k'.repeat(100)]: 2 }), `{${JSON.stringify('a"b\\c\n')}:1,${JSON.stringify('k'.repeat(100))}:2}`);
      assert.throws(() => canonicalJson({ ok: 1, '\ud800': 2 }), /key contains a lone surrogate .* at \$\.\ud800/);
    }
  });

  it('isWellFormedString accepts pairs and rejects lone surrogates', () => {
    assert.equal(isWellFormedString('😀 ok'), true);
    assert.equal(isWellFormedString('\ud83d'), false);
    assert.equal(isWellFormedString('\ude00'), false);
    assert.equal(isWellFormedString('\ude00\ud83d'), false);
  });
});
