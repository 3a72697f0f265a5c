import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256Hex } from '../../../extension/gateway/audit/auditRecord';
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

  it('joinMembers(canonicalMembers(o)) is canonicalJson(o), and refuses what it refuses', () => {
    for (const body of bodies) assert.equal(joinMembers(canonicalMembers(body)), canonicalJson(body));
    assert.throws(() => canonicalMembers({ a: 1, d: new Date(0) }), /Date object has no canonical JSON form at \$\.d/);
    assert.throws(() => canonicalMembers({ b: { c: 1n } }), /bigint has no JSON form at \$\.b\.c/);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    assert.throws(() => canonicalMembers(cycle), /circular reference at \$\.self/);
  });
});
