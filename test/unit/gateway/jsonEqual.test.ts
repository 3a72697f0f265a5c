import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonEqual } from '../../../extension/gateway/audit/jsonEqual';

/** The filter-and-every form jsonEqual had before it was written as loops: the reference. */
function reference(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => reference(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => Object.prototype.hasOwnProperty.call(bo, k) && reference(ao[k], bo[k]));
}

/** `value` behind a proxy (nested objects too) that logs every trap it sees. */
function logged(value: unknown, log: string[], at = '$'): unknown {
  if (typeof value !== 'object' || value === null) return value;
  return new Proxy(value, {
    ownKeys(target) {
      log.push(`keys ${at}`);
      return Reflect.ownKeys(target);
    },
    getOwnPropertyDescriptor(target, key) {
      log.push(`own ${at}.${String(key)}`);
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
    has(target, key) {
      log.push(`has ${at}.${String(key)}`);
      return Reflect.has(target, key);
    },
    get(target, key, receiver) {
      log.push(`get ${at}.${String(key)}`);
      return logged(Reflect.get(target, key, receiver) as unknown, log, `${at}.${String(key)}`);
    },
  });
}

const record = { a: 1, b: 'x', m: { n: null, z: [1, { y: true }], u: undefined }, r: ['p', 'q'] };
// eslint-disable-next-line no-sparse-arrays
const holey: unknown[] = [1, , 3];
const pairs: Array<[unknown, unknown]> = [
  [record, structuredClone(record)],
  [record, { ...record, extra: 1 }],
  [{ ...record, extra: 1 }, record],
  [record, { ...record, extra: undefined }],
  [{ ...record, gone: undefined }, record],
  [record, { ...record, m: { ...record.m, z: [1, { y: false }] } }],
  [record, { ...record, r: ['p'] }],
  [{ a: 0 }, { a: -0 }],
  [{ a: Number.NaN }, { a: Number.NaN }],
  [[1, 2], { 0: 1, 1: 2 }],
  [{ a: null }, { a: {} }],
  [{ a: 1 }, { b: 1 }],
  [{ a: undefined }, {}],
  [holey, [1, 2, 3]],
  [holey, [1, undefined, 3]],
  [[1, undefined], [1, 2]],
  ['s', 's'],
  [1, '1'],
  [null, {}],
  [{}, []],
];

describe('jsonEqual', () => {
  it('answers as the filter-and-every form did', () => {
    for (const [a, b] of pairs) assert.equal(jsonEqual(a, b), reference(a, b), JSON.stringify([a, b]));
  });

  it('reads the second value (where getters and proxies live) exactly as that form did: same traps, same order', () => {
    for (const [a, b] of pairs) {
      const seen: string[] = [];
      const expected: string[] = [];
      const got = jsonEqual(a, logged(b, seen));
      assert.equal(got, reference(a, logged(b, expected)));
      assert.deepEqual(seen, expected, JSON.stringify([a, b]));
    }
  });

  it('refuses a getter whose second read differs from the first', () => {
    let reads = 0;
    const shifty = {
      get v(): number {
        return reads++;
      },
    };
    assert.equal(jsonEqual({ v: 0 }, shifty), false);
  });
});
