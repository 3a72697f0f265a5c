import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256Hex, type AuditInput } from '../../../extension/gateway/audit/auditRecord';
import { canonicalJson, canonicalMembers, joinMembers } from '../../../extension/gateway/audit/canonicalJson';
import { buildAuditBody } from '../../../extension/gateway/audit/buildAuditBody';
import { chainRecord } from '../../../extension/gateway/audit/chainRecord';

const bodies: Array<Record<string, unknown>> = [
  { timestamp: '2026-04-20T12:00:00.000Z', session_id: 's', tool_name: 't', server_name: 'x', tier: 'read', status: 'allowed', autonomy_level: 'L1', duration_ms: 3, emission_source: 'proxy' },
  {
    timestamp: '2026-04-20T12:00:00.000Z',
    session_id: 's',
    tool_name: 'é\u{1F600}',
    server_name: 'x',
    tier: 'write',
    status: 'error',
    autonomy_level: 'L1',
    duration_ms: 0,
    emission_source: 'gateway',
    error: 'line\nbreak "quoted" \\ back',
    redacted_fields: ['result.content[0].text'],
    metadata: { z: [1, { b: null, a: true }], a: -0, 'key with space': 'v', skipped: undefined },
  },
  {},
  // Keys on both sides of where hash and prev_hash are spliced in, and right at the boundaries.
  { h: 1, hasg: 2, hash_: 3, hashes: 4, prev: 5, prev_hasg: 6, prev_hash_: 7, 'prev_hash\u0000': 8, A: 9, '\u{1F600}': 10 },
  { zz: [{}], a: 'x' },
  { hash_: 'only between' },
  { prev_hash0: 'only after' },
];

describe('chainRecord', () => {
  it('chains a body from buildAuditBody with the members written there: the same line, and a body changed since is refused', () => {
    const input = { tool_name: 'é\u{1F600}', server_name: 'x', tier: 'write' as const, status: 'error' as const, error: 'a "b"', metadata: { z: [1, { b: null }], a: -0 } };
    const built = buildAuditBody(input, '2026-04-20T12:00:00.000Z', 's');
    const copy = JSON.parse(JSON.stringify(built)) as Record<string, unknown>;
    const prev = 'cd'.repeat(32);
    const fromBuilt = chainRecord(built, prev);
    const fromCopy = chainRecord(copy, prev);
    assert.equal(fromBuilt.line, fromCopy.line);
    assert.deepEqual(fromBuilt.record, fromCopy.record);
    // Not walked again: a change made after the check is not in the members, and the line's own
    // check refuses the record rather than writing text that is not the record.
    (built.metadata as Record<string, unknown>).a = 'changed';
    assert.throws(() => chainRecord(built, prev), /does not parse back to the record/);
  });

  for (const [i, body] of bodies.entries()) {
    it(`hashes and writes what canonicalJson writes for the record (${i})`, () => {
      const prev = 'ab'.repeat(32);
      const { record, line } = chainRecord(body, prev);
      const unhashed = { ...body, prev_hash: prev };
      assert.equal(record.hash, sha256Hex(canonicalJson(unhashed)));
      assert.equal(line, canonicalJson({ ...unhashed, hash: record.hash }));
    });
  }

  it('a body from buildAuditBody, every mix of its optional fields: the line and hash canonicalJson gives, as for a copy it did not build', () => {
    const optional: Array<Partial<AuditInput>> = [
      {},
      { error: 'e' },
      { metadata: { m: 1 } },
      { redacted_fields: ['r'] },
      { error: 'e', metadata: { m: [1, { z: 'é' }] } },
      { error: 'e', redacted_fields: ['r'] },
      { metadata: { m: 1 }, redacted_fields: ['r'] },
      { error: 'e\n', metadata: { hash: 1, prev_hash: 2 }, redacted_fields: ['r', 's'] },
    ];
    let prev = 'ef'.repeat(32);
    for (const extra of optional) {
      const built = buildAuditBody({ tool_name: 't', server_name: 's', ...extra }, '2026-04-20T12:00:00.000Z', 'sid');
      const { record, line } = chainRecord(built, prev);
      const unhashed = { ...JSON.parse(JSON.stringify(built)), prev_hash: prev } as Record<string, unknown>;
      assert.equal(record.hash, sha256Hex(canonicalJson(unhashed)), JSON.stringify(extra));
      assert.equal(line, canonicalJson({ ...unhashed, hash: record.hash }), JSON.stringify(extra));
      assert.equal(chainRecord({ ...built }, prev).line, line);
      prev = record.hash;
    }
  });

  it('what a built body keeps for the chain is invisible: not in its keys, its JSON, a copy or the record', () => {
    const input = { tool_name: 't', server_name: 's', metadata: { m: 1 } };
    const built = buildAuditBody(input, '2026-04-20T12:00:00.000Z', 'sid');
    const plain = JSON.parse(JSON.stringify(built)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(built), Object.keys(plain));
    assert.equal(JSON.stringify(built), JSON.stringify(plain));
    assert.deepEqual(Object.getOwnPropertySymbols({ ...built }), []);
    const { record } = chainRecord(built, 'ab'.repeat(32));
    assert.deepEqual(Object.getOwnPropertySymbols(record), []);
    assert.deepEqual(Object.getOwnPropertyNames(record).sort(), [...Object.keys(plain), 'prev_hash', 'hash'].sort());
  });

  it('buildAuditBody refuses what canonicalMembers refuses, at the same path', () => {
    const refusal = (input: AuditInput): string => {
      try {
        buildAuditBody(input, '2026-04-20T12:00:00.000Z', 'sid');
      } catch (err) {
        return (err as Error).message;
      }
      return 'accepted';
    };
    assert.match(refusal({ tool_name: 't', server_name: 's', metadata: { ok: 1, n: { deep: [1, 2n] } } }), /bigint has no JSON form at \$\.metadata\.n\.deep\[1\]/);
    assert.match(refusal({ tool_name: 't', server_name: 's', error: 'cut \ud83d', metadata: { d: new Date(0) } }), /lone surrogate.* at \$\.error$/);
    assert.match(refusal({ tool_name: 't', server_name: 's', redacted_fields: ['\udc00'] }), /lone surrogate.* at \$\.redacted_fields\[0\]$/);
  });

  it('a prev_hash that is not a hash goes the general way, even an empty one', () => {
    const built = buildAuditBody({ tool_name: 't', server_name: 's' }, '2026-04-20T12:00:00.000Z', 'sid');
    for (const prev of ['', 'AB'.repeat(32), 'not a hash']) {
      const { record, line } = chainRecord(built, prev);
      assert.equal(line, canonicalJson({ ...JSON.parse(JSON.stringify(built)), prev_hash: prev, hash: record.hash }));
    }
  });

  it('joinMembers(canonicalMembers(o)) is canonicalJson(o), and refuses what it refuses', () => {
    for (const body of bodies) assert.equal(joinMembers(canonicalMembers(body)), canonicalJson(body));
    assert.throws(() => canonicalMembers({ a: 1, d: new Date(0) }), /Date object has no canonical JSON form at \$\.d/);
    assert.throws(() => canonicalMembers({ b: { c: 1n } }), /bigint has no JSON form at \$\.b\.c/);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    assert.throws(() => canonicalMembers(cycle), /circular reference at \$\.self/);
  });
});
