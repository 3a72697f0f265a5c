import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../extension/common/clock';
import { AuditLog } from '../../../extension/gateway/audit/auditLog';
import { hashRecordBody, type AuditInput } from '../../../extension/gateway/audit/auditRecord';
import { buildAuditBody } from '../../../extension/gateway/audit/buildAuditBody';
import { canonicalJson } from '../../../extension/gateway/audit/canonicalJson';
import { chainRecord } from '../../../extension/gateway/audit/chainRecord';

// Exact bytes and hashes of audit lines, pinned: rea reads audit.jsonl, and every hash after a
// line depends on it, so a faster way to build or chain a record must write the very same
// text. The first line is one `gatehouse serve` wrote for an echo call, copied from its file.

const SESSION = '658b5379-1094-4052-8541-9d1de7436f26';

const echo: AuditInput = {
  session_id: SESSION,
  tool_name: 'echo',
  server_name: 'echo',
  tier: 'read',
  status: 'allowed',
  autonomy_level: 'L1',
  duration_ms: 14,
  emission_source: 'proxy',
  metadata: { halt_decision: 'absent', halt_at_invocation: null, tier_source: 'annotation', argument_count: 1 },
};

const pinned: Array<{ name: string; input: AuditInput; timestamp: string; session: string; prev: string; line: string }> = [
  {
    name: 'an echo call, as the gateway wrote it',
    input: echo,
    timestamp: '2026-12-02T11:06:41.706Z',
    session: SESSION,
    prev: '5daf5b26a9d72b41b12d7f6178ce205eea8b18bb436e9b9997221b4452e12b98',
    line:
      '{"autonomy_level":"L1","duration_ms":14,"emission_source":"proxy","hash":"baab5e7257edfd20084cbdbf7e89740b8eb23b8138fbea58fc9f91aef2bfeac3",' +
      '"metadata":{"argument_count":1,"halt_at_invocation":null,"halt_decision":"absent","tier_source":"annotation"},' +
      '"prev_hash":"5daf5b26a9d72b41b12d7f6178ce205eea8b18bb436e9b9997221b4452e12b98","server_name":"echo",' +
      '"session_id":"658b5379-1094-4052-8541-9d1de7436f26","status":"allowed","tier":"read","timestamp":"2026-12-02T11:06:41.706Z","tool_name":"echo"}',
  },
  {
    name: 'every optional field, escapes, nested and awkward keys and numbers',
    input: {
      tool_name: 'é\u{1F600} "q"',
      server_name: 'srv',
      tier: 'destructive',
      status: 'error',
      duration_ms: 2.5,
      error: 'line\nbreak \\ \u2028 tab\t',
      redacted_fields: ['arguments.token', 'result.content[0].text'],
      metadata: { z: [1, -0, 1e21, 0.1, { b: null, a: true, '': 'empty' }], a: 'x', hash_: 1, prev_hash0: 2, A: { deep: [[]] }, skipped: undefined },
    },
    timestamp: '2026-01-01T00:00:00.000Z',
    session: 'default-session',
    prev: 'baab5e7257edfd20084cbdbf7e89740b8eb23b8138fbea58fc9f91aef2bfeac3',
    line:
      '{"autonomy_level":"unknown","duration_ms":2.5,"emission_source":"proxy","error":"line\\nbreak \\\\ \u2028 tab\\t",' +
      '"hash":"443c17b1ef4bb63feae3009b2c68d7d3a2f61339d84707a5232ea6dc9346fca7",' +
      '"metadata":{"A":{"deep":[[]]},"a":"x","hash_":1,"prev_hash0":2,"z":[1,0,1e+21,0.1,{"":"empty","a":true,"b":null}]},' +
      '"prev_hash":"baab5e7257edfd20084cbdbf7e89740b8eb23b8138fbea58fc9f91aef2bfeac3","redacted_fields":["arguments.token","result.content[0].text"],' +
      '"server_name":"srv","session_id":"default-session","status":"error","tier":"destructive","timestamp":"2026-01-01T00:00:00.000Z","tool_name":"é\u{1F600} \\"q\\""}',
  },
  {
    name: 'the defaults only, at genesis',
    input: { tool_name: 't', server_name: 's' },
    timestamp: '2026-01-01T00:00:00.001Z',
    session: 'x',
    prev: '0'.repeat(64),
    line:
      '{"autonomy_level":"unknown","duration_ms":0,"emission_source":"proxy","hash":"c48623725d35267b5c8afd1ef3fc5cfe928a1d2272f568ece71442f66af08d70",' +
      '"prev_hash":"0000000000000000000000000000000000000000000000000000000000000000","server_name":"s","session_id":"x","status":"allowed",' +
      '"tier":"read","timestamp":"2026-01-01T00:00:00.001Z","tool_name":"t"}',
  },
];

describe('audit line bytes (pinned)', () => {
  for (const pin of pinned) {
    it(`${pin.name}: the same line and hash, which is the canonical JSON of the record`, () => {
      const { record, line } = chainRecord(buildAuditBody(pin.input, pin.timestamp, pin.session), pin.prev);
      assert.equal(line, pin.line);
      const { hash, ...unhashed } = JSON.parse(pin.line) as Record<string, unknown>;
      assert.equal(record.hash, hash);
      assert.equal(hashRecordBody(unhashed), hash);
      assert.equal(canonicalJson(record), pin.line);
      assert.deepEqual(record, JSON.parse(pin.line));
    });
  }

  it('AuditLog writes the same file bytes for the same appends', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-pin-'));
    try {
      const clock = new ManualClock(Date.parse('2026-12-02T11:06:41.706Z'));
      const log = await AuditLog.open({ dir, sessionId: SESSION, clock, fsync: false, lock: { acquire: async () => async () => undefined } });
      void log.append(echo);
      clock.advance(1);
      void log.appendLater(() => ({ tool_name: 't', server_name: 's', error: 'x', redacted_fields: ['a.b'] }));
      await log.close();
      const bytes = readFileSync(path.join(dir, 'audit.jsonl'));
      const lines = bytes.toString('utf8').split('\n');
      assert.equal(
        lines[0],
        '{"autonomy_level":"L1","duration_ms":14,"emission_source":"proxy","hash":"c4251bd592d1ba68b598a05e2153488da0cdb3500cfb6b2d2c912df70b971ffa",' +
          '"metadata":{"argument_count":1,"halt_at_invocation":null,"halt_decision":"absent","tier_source":"annotation"},' +
          '"prev_hash":"0000000000000000000000000000000000000000000000000000000000000000","server_name":"echo",' +
          '"session_id":"658b5379-1094-4052-8541-9d1de7436f26","status":"allowed","tier":"read","timestamp":"2026-12-02T11:06:41.706Z","tool_name":"echo"}',
      );
      assert.equal(createHash('sha256').update(bytes).digest('hex'), '6d5445b9e8818e5fccf3a366f8d334b0da5ce82f56379d34db19777f424bfb85');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
