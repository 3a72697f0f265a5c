import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { AuditLog } from '../../extension/gateway/audit/auditLog';
import type { AuditRecord } from '../../extension/gateway/audit/auditRecord';
import { verifyAuditDir } from '../../extension/gateway/audit/verifyAudit';
import { repoRoot, tempDir } from '../helpers/fixtures';

const writer = path.join(repoRoot, 'test/fixtures/rea/auditWriter.mjs');

/** Runs the rea-shaped writer to completion. */
function reaWriter(dir: string, count: number, tag: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, dir, String(count), tag], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`rea writer exited ${code}: ${err}`))));
  });
}

describe('AuditLog and rea writing one audit.jsonl at once (issue 13.8)', () => {
  test('two rea-style writer processes and the gateway\'s group-commit writer keep one unbroken chain', async () => {
    const root = tempDir('gatehouse-lock-');
    const dir = path.join(root, '.rea');
    await fs.mkdir(dir);
    const log = await AuditLog.open({ dir, sessionId: 'gw', groupCommitMs: 2 });
    const perWriter = 100;
    const ours: Array<Promise<AuditRecord>> = [];
    let writersDone = false;
    const writers = Promise.all([reaWriter(dir, perWriter, 'hookA'), reaWriter(dir, perWriter, 'hookB')]).finally(() => (writersDone = true));
    // A few calls every few milliseconds, as a busy gateway, for as long as both rea writers run
    // (not a flood: proper-lockfile has no queue, and a writer that never lets go starves rea's
    // retries, which is not what a gateway serving calls does).
    for (let i = 0; !writersDone; i++) {
      for (let j = 0; j < 3; j++) ours.push(log.append({ tool_name: `call-${i}-${j}`, server_name: 's', tier: 'read' }));
      await new Promise((r) => setTimeout(r, 4));
    }
    await writers;
    await Promise.all(ours);
    await log.close();

    const lines = (await fs.readFile(path.join(dir, 'audit.jsonl'), 'utf8')).trim().split('\n');
    assert.equal(lines.length, 2 * perWriter + ours.length, 'every record of every writer is there');
    const result = await verifyAuditDir(dir);
    assert.equal(result.ok, true, `chain split: ${JSON.stringify(result.firstBreak)}`);
    assert.equal(result.recordedBreaks.length, 0);
    assert.equal(result.legacyRecords, 2 * perWriter, 'rea\'s own lines verify the rea way');
    // The lock is a directory beside the config dir, gone once nobody writes.
    await assert.rejects(fs.stat(path.join(root, '.rea.lock')), /ENOENT/);
    await fs.rm(root, { recursive: true, force: true });
  });

  test('under a backlog the gateway keeps the lock for a few rounds at a time, and rea\'s writers still get their turn: one unbroken chain', async () => {
    const root = tempDir('gatehouse-lock-');
    const dir = path.join(root, '.rea');
    await fs.mkdir(dir);
    // A group-commit window like the gateway's (governance.ts), and calls coming faster than the log writes them:
    // its queue is never empty, so every round is due as soon as the last one is done.
    // No rotation at 50 MiB: with a fast writer and slow rea writers (a loaded machine), the
    // backlog loop can append more than that, and this test counts lines in one file.
    const log = await AuditLog.open({ dir, sessionId: 'gw', groupCommitMs: 10, rotation: () => ({ max_bytes: 2 ** 40 }) });
    const perWriter = 10;
    const ours: Array<Promise<AuditRecord>> = [];
    let writersDone = false;
    let busyRounds = 0;
    const writers = Promise.all([reaWriter(dir, perWriter, 'hookA'), reaWriter(dir, perWriter, 'hookB')]).finally(() => (writersDone = true));
    for (let i = 0; !writersDone; i++) {
      // Bounded as the audit layer bounds it (AUDIT_BACKLOG_LIMIT): calls wait while it is long.
      if (log.backlog < 1500) for (let j = 0; j < 200; j++) ours.push(log.append({ tool_name: `call-${i}-${j}`, server_name: 's', tier: 'read' }));
      if (log.backlog > 0) busyRounds++;
      await new Promise((r) => setTimeout(r, 2));
    }
    await writers;
    await Promise.all(ours);
    await log.close();
    assert.ok(busyRounds > 10, 'the log had a backlog while rea wrote');

    const lines = (await fs.readFile(path.join(dir, 'audit.jsonl'), 'utf8')).trim().split('\n');
    assert.equal(lines.length, 2 * perWriter + ours.length, 'every record of every writer is there');
    const result = await verifyAuditDir(dir);
    assert.equal(result.ok, true, `chain split: ${JSON.stringify(result.firstBreak)}`);
    assert.equal(result.recordedBreaks.length, 0);
    assert.equal(result.legacyRecords, 2 * perWriter);
    // Fewer lock cycles than rounds: rounds due at once share one.
    assert.ok(log.stats.writes > 0);
    await assert.rejects(fs.stat(path.join(root, '.rea.lock')), /ENOENT/);
    await fs.rm(root, { recursive: true, force: true });
  });
});
