import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ANCHOR_FILE_NAME } from '../../../extension/gateway/audit/auditAnchor';
import { AuditLog, type AuditChainBreak } from '../../../extension/gateway/audit/auditLog';
import { GENESIS_HASH, type AuditRecord } from '../../../extension/gateway/audit/auditRecord';
import { verifyAuditDir } from '../../../extension/gateway/audit/verifyAudit';
import { tempDir } from '../../helpers/fixtures';

/** Drops the last `n` lines of `audit.jsonl`, as someone hiding what they did would. */
async function cutTail(dir: string, n: number): Promise<void> {
  const file = path.join(dir, 'audit.jsonl');
  const lines = (await fs.readFile(file, 'utf8')).split('\n').filter(Boolean);
  await fs.writeFile(file, lines.slice(0, -n).map((l) => `${l}\n`).join(''));
}

async function records(dir: string): Promise<AuditRecord[]> {
  const text = await fs.readFile(path.join(dir, 'audit.jsonl'), 'utf8');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);
}

async function writeSome(dir: string, n: number): Promise<AuditRecord[]> {
  const log = await AuditLog.open({ dir, sessionId: 'one' });
  const out: AuditRecord[] = [];
  for (let i = 0; i < n; i++) out.push(await log.append({ tool_name: `t${i}`, server_name: 's' }));
  await log.close();
  return out;
}

describe('audit tail anchor (issue 13.7)', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('gatehouse-anchor-');
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('is kept next to the log, 0600, naming the last record, its offset and the line count', async () => {
    const written = await writeSome(dir, 4);
    const st = await fs.stat(path.join(dir, ANCHOR_FILE_NAME));
    assert.equal(st.mode & 0o777, 0o600);
    const anchor = JSON.parse(await fs.readFile(path.join(dir, ANCHOR_FILE_NAME), 'utf8')) as Record<string, unknown>;
    assert.equal(anchor.hash, written.at(-1)!.hash);
    assert.equal(anchor.lines, 4);
    assert.equal(anchor.size, (await fs.stat(path.join(dir, 'audit.jsonl'))).size);
    assert.equal((await verifyAuditDir(dir)).ok, true);
  });

  it('audit verify says how many records are missing at the end', async () => {
    await writeSome(dir, 10);
    await cutTail(dir, 3);
    const result = await verifyAuditDir(dir);
    assert.equal(result.ok, false, 'what is left is a valid chain, but not all that was written');
    assert.equal(result.breakCount, 0);
    assert.equal(result.tailCuts.length, 1);
    assert.equal(result.tailCuts[0]!.source, 'anchor');
    assert.equal(result.tailCuts[0]!.missing, 3);
    assert.match(result.tailCuts[0]!.message, /^3 record\(s\) missing at the end of audit\.jsonl/);
  });

  it('the writer finds a cut tail at open and records it instead of linking to the shortened chain', async () => {
    const written = await writeSome(dir, 10);
    await cutTail(dir, 3);
    const breaks: AuditChainBreak[] = [];
    const log = new AuditLog({ dir, sessionId: 'two' });
    log.onDidRecordBreak((b) => breaks.push(b));
    await log.open();
    const next = await log.append({ tool_name: 'after', server_name: 's' });
    await log.close();
    assert.equal(log.stats.tailCuts, 1);
    assert.deepEqual(breaks.map((b) => b.reason), ['tail_cut']);
    const all = await records(dir);
    const marker = all[7]!;
    assert.equal(marker.tool_name, 'audit.tail_cut');
    assert.equal(marker.status, 'error');
    assert.equal(marker.prev_hash, written[6]!.hash, 'chained to what is left: the chain stays verifiable');
    assert.equal((marker.metadata as { missing_records: number }).missing_records, 3);
    assert.match(marker.error ?? '', /3 record\(s\) missing at the end of audit\.jsonl/);
    assert.equal(next.prev_hash, marker.hash);
    const result = await verifyAuditDir(dir);
    assert.equal(result.breakCount, 0);
    assert.equal(result.ok, false, 'the cut stays on record');
    assert.deepEqual(result.tailCuts.map((c) => [c.source, c.missing, c.line]), [['recorded', 3, 8]]);
  });

  it('a running writer notices a cut made under it', async () => {
    const log = await AuditLog.open({ dir, sessionId: 'live' });
    for (let i = 0; i < 5; i++) await log.append({ tool_name: `t${i}`, server_name: 's' });
    await cutTail(dir, 2);
    await log.append({ tool_name: 'after', server_name: 's' });
    await log.close();
    assert.equal(log.stats.tailCuts, 1);
    const all = await records(dir);
    assert.deepEqual(all.map((r) => r.tool_name), ['t0', 't1', 't2', 'audit.tail_cut', 'after']);
    assert.equal((all[3]!.metadata as { missing_records: number }).missing_records, 2);
  });

  it('a deleted log is all missing: the next start says so and starts at genesis', async () => {
    await writeSome(dir, 4);
    await fs.rm(path.join(dir, 'audit.jsonl'));
    const gone = await verifyAuditDir(dir);
    assert.equal(gone.ok, false);
    assert.equal(gone.tailCuts[0]?.missing, 4);
    const log = await AuditLog.open({ dir });
    await log.close();
    const [marker] = await records(dir);
    assert.equal(marker!.tool_name, 'audit.tail_cut');
    assert.equal(marker!.prev_hash, GENESIS_HASH);
    assert.equal((marker!.metadata as { missing_records: number }).missing_records, 4);
  });

  it('no false alarm when rea rotated the log since (it does not know the anchor)', async () => {
    const written = await writeSome(dir, 3);
    await fs.rename(path.join(dir, 'audit.jsonl'), path.join(dir, 'audit-20260101-000000.jsonl'));
    // rea's rotation marker (SPEC §8.4), hashed the rea way, chained to the old tail.
    const marker: Record<string, unknown> = {
      timestamp: '2026-01-01T00:00:00.000Z',
      session_id: 'system',
      tool_name: 'audit.rotation',
      server_name: 'rea',
      tier: 'read',
      status: 'allowed',
      autonomy_level: 'system',
      duration_ms: 0,
      prev_hash: written.at(-1)!.hash,
      metadata: { rotated_from: 'audit-20260101-000000.jsonl', rotated_at: '2026-01-01T00:00:00.000Z' },
    };
    marker.hash = createHash('sha256').update(JSON.stringify(marker)).digest('hex');
    await fs.writeFile(path.join(dir, 'audit.jsonl'), `${JSON.stringify(marker)}\n`);
    const log = await AuditLog.open({ dir });
    await log.append({ tool_name: 'after', server_name: 's' });
    await log.close();
    assert.equal(log.stats.tailCuts, 0, 'the anchored record is in the rotated file');
    const result = await verifyAuditDir(dir);
    assert.equal(result.ok, true, JSON.stringify(result.tailCuts));
  });

  it('no false alarm after a crash between renaming the log and writing the rotation marker', async () => {
    await writeSome(dir, 3);
    await fs.rename(path.join(dir, 'audit.jsonl'), path.join(dir, 'audit-20260101-000000.jsonl'));
    const log = await AuditLog.open({ dir });
    await log.close();
    assert.equal(log.stats.tailCuts, 0);
  });
});
