import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { AuditLog } from '../../../extension/gateway/audit/auditLog';
import { verifyAuditDir } from '../../../extension/gateway/audit/verifyAudit';
import { tofuAuditInput, type TofuDecision } from '../../../extension/gateway/trust/tofuAuditInput';
import { repoRoot, tempDir } from '../../helpers/fixtures';

const fixture = path.join(repoRoot, 'test/fixtures/rea/tofu-audit.jsonl');
const reaRecords = readFileSync(fixture, 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as Record<string, unknown>);

/** What a reader of rea's log relies on: everything but the time, the session and the chain. */
function shape(record: Record<string, unknown>): Record<string, unknown> {
  const { timestamp: _t, session_id: _s, prev_hash: _p, hash: _h, emission_source: _e, error, ...rest } = record;
  return { ...rest, error: typeof error === 'string' };
}

describe('TOFU audit records (issue 13.15)', () => {
  test('match rea\'s records field for field: rea.tofu / rea, tier read, metadata.event, server and fingerprints', async () => {
    const fa = 'a'.repeat(64);
    const fb = 'b'.repeat(64);
    const decisions: TofuDecision[] = [
      { event: 'first_seen', server: 'helixir', fingerprint: fa },
      { event: 'drift_blocked', server: 'helixir', stored: fa, current: fb },
      { event: 'drift_accepted', server: 'helixir', stored: fa, current: fb, via: 'env' },
    ];
    const dir = tempDir();
    // Appended after rea's own records: one log, one chain, whoever wrote which line.
    copyFileSync(fixture, path.join(dir, 'audit.jsonl'));
    const log = await AuditLog.open({ dir, fsync: false });
    const ours = [];
    for (const d of decisions) ours.push(await log.append(tofuAuditInput(d, 'gatehouse-session')));
    await log.close();
    assert.deepEqual(
      ours.map((r) => shape(r as unknown as Record<string, unknown>)),
      reaRecords.map(shape),
    );
    const verified = await verifyAuditDir(dir);
    assert.equal(verified.ok, true, JSON.stringify(verified.firstBreak));
    assert.equal(verified.records, 6);
  });

  test('an accept from the CLI or the editor says so instead of claiming the env bypass', () => {
    const input = tofuAuditInput({ event: 'drift_accepted', server: 's', stored: 'a'.repeat(64), current: 'b'.repeat(64), via: 'cli' });
    assert.equal(input.metadata?.via, 'cli');
    assert.equal(input.metadata?.bypassed, undefined);
  });
});
