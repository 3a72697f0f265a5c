import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '../../../extension/common/clock';
import { setListenerErrorHandler } from '../../../extension/common/event';
import { nullLogger } from '../../../extension/common/logger';
import { nodeAuditFileSystem, type AuditFileHandle, type AuditFileSystem } from '../../../extension/gateway/audit/auditFileSystem';
import { directoryLock, type AuditLock } from '../../../extension/gateway/audit/auditLock';
import { readAnchor } from '../../../extension/gateway/audit/auditAnchor';
import { AuditLog, AuditRecordError, type AuditChainBreak, type AuditFailure } from '../../../extension/gateway/audit/auditLog';
import { GENESIS_HASH, type AuditRecord } from '../../../extension/gateway/audit/auditRecord';
import { canonicalJson } from '../../../extension/gateway/audit/canonicalJson';
import { verifyAuditDir, verifyAuditFile } from '../../../extension/gateway/audit/verifyAudit';
import { tempDir } from '../../helpers/fixtures';

interface Counts {
  opens: number;
  /** fstat of an open handle. */
  handleStats: number;
  reads: number;
  bytesRead: number;
  writes: number;
}

/** Real fs, wrapped to count what the writer does and to inject write failures. */
function instrumentedFs(failWrite?: (writeNo: number) => 'throw' | 'partial' | undefined): { fs: AuditFileSystem; counts: Counts } {
  const counts: Counts = { opens: 0, handleStats: 0, reads: 0, bytesRead: 0, writes: 0 };
  const wrapped: AuditFileSystem = {
    ...nodeAuditFileSystem,
    async open(p, flags, mode) {
      counts.opens++;
      const h = await nodeAuditFileSystem.open(p, flags, mode);
      const handle: AuditFileHandle = {
        async read(buffer, offset, length, position) {
          const r = await h.read(buffer, offset, length, position);
          counts.reads++;
          counts.bytesRead += r.bytesRead;
          return r;
        },
        async write(buffer, offset, length) {
          counts.writes++;
          const failure = failWrite?.(counts.writes);
          if (failure === 'throw') throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          if (failure === 'partial') {
            await h.write(buffer, offset, Math.floor(length / 2));
            throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
          }
          return h.write(buffer, offset, length);
        },
        stat: () => {
          counts.handleStats++;
          return h.stat();
        },
        sync: () => h.sync(),
        chmod: (m) => h.chmod(m),
        close: () => h.close(),
      };
      return handle;
    },
  };
  return { fs: wrapped, counts };
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

async function lines(dir: string, name = 'audit.jsonl'): Promise<string[]> {
  const text = await fs.readFile(path.join(dir, name), 'utf8');
  return text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
}

async function parsedLines(dir: string, name = 'audit.jsonl'): Promise<AuditRecord[]> {
  return (await lines(dir, name)).map((l) => JSON.parse(l) as AuditRecord);
}

describe('AuditLog', () => {
  let dir: string;
  let failures: AuditFailure[];
  let listenerErrors: unknown[];
  beforeEach(() => {
    dir = tempDir('gatehouse-audit-');
    failures = [];
    listenerErrors = [];
    setListenerErrorHandler((err) => listenerErrors.push(err));
  });
  afterEach(async () => {
    setListenerErrorHandler(() => undefined);
    assert.deepEqual(listenerErrors, []);
    await fs.rm(dir, { recursive: true, force: true });
  });

  function open(options: Partial<ConstructorParameters<typeof AuditLog>[0]> = {}): Promise<AuditLog> {
    return AuditLog.open({ dir, sessionId: 'sess-1', ...options }).then((log) => {
      log.onDidFail((f) => failures.push(f));
      return log;
    });
  }

  it('writes one canonical line per record: sorted keys, genesis prev_hash, hash over the rest, mode 0600', async () => {
    const clock = new ManualClock(Date.parse('2026-04-20T12:00:01.000Z'));
    const log = await open({ clock });
    const record = await log.append({
      tool_name: 'ping',
      server_name: 'mock',
      tier: 'write',
      status: 'denied',
      autonomy_level: 'L1',
      duration_ms: 2,
      error: 'Kill switch active: incident',
      metadata: { halt_decision: 'present', halt_at_invocation: '2026-04-20T12:00:01.000Z' },
    });
    await log.close();
    assert.equal(record.timestamp, '2026-04-20T12:00:01.000Z');
    assert.equal(record.session_id, 'sess-1');
    assert.equal(record.prev_hash, GENESIS_HASH);
    assert.equal(record.emission_source, 'proxy', 'a record is first-party only when its writer says so');
    const [line] = await lines(dir);
    assert.equal(line, canonicalJson(record));
    const { hash, ...rest } = JSON.parse(line!) as AuditRecord;
    assert.equal(hash, sha256(canonicalJson(rest)));
    assert.equal(hash, record.hash);
    const keys = Object.keys(JSON.parse(line!) as object);
    assert.deepEqual(keys, [...keys].sort());
    assert.equal((await fs.stat(log.file)).mode & 0o777, 0o600);
  });

  it('appendLater builds a record after this turn, in call order with append, stamped at the call', async () => {
    const clock = new ManualClock(Date.parse('2026-04-20T12:00:01.000Z'));
    const log = await open({ clock });
    const built: string[] = [];
    const input = (tool: string) => () => {
      built.push(tool);
      return { tool_name: tool, server_name: 'srv', status: 'allowed' as const };
    };
    const first = log.appendLater(input('first'));
    clock.advance(1000);
    const second = log.appendLater(input('second'));
    assert.deepEqual(built, [], 'nothing is built in the turn of the call');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(built, ['first', 'second'], 'built once the turn is over');
    const third = log.appendLater(input('third'));
    // An append lands behind the deferred records queued before it, never ahead of them.
    const fourth = log.append({ tool_name: 'fourth', server_name: 'srv', status: 'allowed' });
    assert.deepEqual(built, ['first', 'second', 'third']);
    const records = await Promise.all([first, second, third, fourth]);
    assert.deepEqual(
      records.map((r) => [r.tool_name, r.timestamp]),
      [
        ['first', '2026-04-20T12:00:01.000Z'],
        ['second', '2026-04-20T12:00:02.000Z'],
        ['third', '2026-04-20T12:00:02.000Z'],
        ['fourth', '2026-04-20T12:00:02.000Z'],
      ],
    );
    const fifth = log.appendLater(input('fifth'));
    await log.close(); // close builds what is deferred before it closes: nothing is dropped
    assert.equal((await fifth).tool_name, 'fifth');
    assert.deepEqual(
      (await parsedLines(dir)).map((r) => r.tool_name),
      ['first', 'second', 'third', 'fourth', 'fifth'],
    );
    assert.deepEqual((await verifyAuditFile(log.file)).ok, true);
    assert.deepEqual(failures, []);
  });

  it('appendLater: flush builds what is deferred; a build that throws is a refused record', async () => {
    const log = await open();
    const refused = log.appendLater(() => {
      throw new Error('boom');
    });
    const refusal = assert.rejects(refused, (err: unknown) => err instanceof AuditRecordError && /boom/.test(err.message));
    const kept = log.appendLater(() => ({ tool_name: 'kept', server_name: 'srv', status: 'allowed' }));
    await log.flush();
    await refusal;
    assert.equal((await kept).tool_name, 'kept');
    assert.deepEqual(
      (await parsedLines(dir)).map((r) => r.tool_name),
      ['kept'],
    );
    assert.deepEqual(
      failures.map((f) => f.phase),
      ['refused'],
    );
    await log.close();
  });

  it('stamps emission_source gateway only when asked, and it is covered by the hash', async () => {
    const log = await open();
    const gw = await log.append({ tool_name: 'session_blocker', server_name: 'srv', status: 'error', emission_source: 'gateway' });
    await log.close();
    assert.equal(gw.emission_source, 'gateway');
    // Editing the source breaks the chain at that line.
    const [line] = await lines(dir);
    await fs.writeFile(log.file, `${line!.replace('"emission_source":"gateway"', '"emission_source":"proxy"')}\n`);
    const result = await verifyAuditFile(log.file);
    assert.equal(result.ok, false);
    assert.equal(result.firstBreak?.line, 1);
    assert.equal(result.firstBreak?.reason, 'hash_mismatch');
  });

  it('groupCommitMs: records appended one by one within the window share a write; a record after a quiet spell is written at once', async () => {
    const { fs: ifs, counts } = instrumentedFs();
    const log = await open({ fs: ifs, groupCommitMs: 200 });
    const writesBefore = counts.writes;
    // After the quiet spell since open, the first record goes out at once (well inside the window).
    const t0 = performance.now();
    await log.append({ tool_name: 'first', server_name: 'srv' });
    const firstMs = performance.now() - t0;
    assert.equal(counts.writes - writesBefore, 1);
    // Ten records a few ms apart, not awaited (as the gateway's audit layer): one more write.
    const pending: Array<Promise<AuditRecord>> = [];
    for (let i = 0; i < 10; i++) {
      pending.push(log.append({ tool_name: `call-${i}`, server_name: 'srv' }));
      await new Promise((r) => setTimeout(r, 2));
    }
    const records = await Promise.all(pending);
    assert.equal(counts.writes - writesBefore, 2, 'the ten records were written together');
    assert.ok(firstMs < 200, `the first record waited ${firstMs} ms`);
    await log.close();
    const onDisk = await parsedLines(dir);
    assert.deepEqual(onDisk.map((r) => r.tool_name), ['first', ...records.map((r) => r.tool_name)]);
    assert.equal((await verifyAuditFile(log.file)).ok, true);
  });

  it('500 concurrent appends: every promise resolves with its record, chain order = call order, far fewer writes than records, file verifies', async () => {
    const { fs: ifs, counts } = instrumentedFs();
    const log = await open({ fs: ifs });
    const writesBefore = log.stats.writes;
    const pending: Array<Promise<AuditRecord>> = [];
    for (let i = 0; i < 500; i++) pending.push(log.append({ tool_name: `call-${i}`, server_name: 'srv', metadata: { i } }));
    // A second wave queued while the first group write is running joins the next group.
    await new Promise((r) => setImmediate(r));
    for (let i = 500; i < 600; i++) pending.push(log.append({ tool_name: `call-${i}`, server_name: 'srv', metadata: { i } }));
    const records = await Promise.all(pending);
    await log.close();

    records.forEach((r, i) => {
      assert.equal(r.tool_name, `call-${i}`);
      assert.equal(r.prev_hash, i === 0 ? GENESIS_HASH : records[i - 1]!.hash, `record ${i} links to record ${i - 1}`);
    });
    const onDisk = await parsedLines(dir);
    assert.deepEqual(onDisk.map((r) => r.tool_name), records.map((r) => r.tool_name));
    assert.deepEqual(onDisk.map((r) => r.hash), records.map((r) => r.hash));
    const writes = log.stats.writes - writesBefore;
    // Rounds are also bounded by an 8 ms CPU budget, so the exact count depends on the machine.
    assert.ok(writes >= 1 && writes <= 60, `group commit: ${writes} writes for 600 records`);
    assert.equal(counts.writes, log.stats.writes, 'the counter matches the writes the file system saw');
    assert.equal(counts.handleStats, 1, 'only attach fstats the handle; a group write checks the path with one stat');
    assert.equal(log.stats.records, 600);
    const verified = await verifyAuditFile(log.file);
    assert.equal(verified.ok, true);
    assert.equal(verified.records, 600);
    assert.equal(verified.lastHash, records[599]!.hash);
  });

  it('a backlog\'s rounds share one hold of rea\'s lock (no path stat between them); it is let go when the queue empties, with the anchor written', async () => {
    const { fs: ifs } = instrumentedFs();
    let pathStats = 0;
    const counted: AuditFileSystem = { ...ifs, stat: (p) => (pathStats++, ifs.stat(p)) };
    const real = directoryLock(dir, nullLogger);
    let acquired = 0;
    let held = false;
    const lock: AuditLock = {
      async acquire() {
        const release = await real.acquire();
        acquired++;
        held = true;
        return async () => {
          held = false;
          await release();
        };
      },
    };
    const log = await open({ fs: counted, lock });
    const [acquiredBefore, statsBefore, writesBefore] = [acquired, pathStats, log.stats.writes];
    // More than one round takes (1024 records at most): the rounds after the first are due at once.
    const pending: Array<Promise<AuditRecord>> = [];
    for (let i = 0; i < 3000; i++) pending.push(log.append({ tool_name: `call-${i}`, server_name: 'srv', metadata: { i } }));
    const records = await Promise.all(pending);
    await log.flush();
    const writes = log.stats.writes - writesBefore;
    assert.ok(writes >= 3, `${writes} rounds`);
    assert.ok(acquired - acquiredBefore < writes, `${acquired - acquiredBefore} lock cycles for ${writes} rounds`);
    assert.ok(pathStats - statsBefore < writes, `${pathStats - statsBefore} path stats for ${writes} rounds`);
    assert.equal(held, false, 'let go once the queue is empty');
    const anchor = await readAnchor(dir);
    assert.ok(anchor && !(anchor instanceof Error));
    assert.equal(anchor.hash, records[2999]!.hash, 'the anchor names the last record written under the hold');
    assert.equal(anchor.size, (await fs.stat(log.file)).size);
    await log.close();
    assert.equal((await verifyAuditFile(log.file)).records, 3000);
  });

  it('reopening continues the chain from the tail and reads a bounded number of bytes, whatever the file size', async () => {
    const first = await open({ fsync: false });
    const padding = 'p'.repeat(900);
    const batch: Array<Promise<AuditRecord>> = [];
    for (let i = 0; i < 9000; i++) batch.push(first.append({ tool_name: `t${i}`, server_name: 'srv', metadata: { padding } }));
    const written = await Promise.all(batch);
    await first.close();
    const size = (await fs.stat(first.file)).size;
    assert.ok(size > 8 * 1024 * 1024, `pre-existing file is big (${size} bytes)`);

    const { fs: ifs, counts } = instrumentedFs();
    const second = await open({ fs: ifs });
    assert.equal(second.lastHash, written.at(-1)!.hash);
    const next = await second.append({ tool_name: 'after-reopen', server_name: 'srv' });
    await second.close();
    assert.equal(next.prev_hash, written.at(-1)!.hash);
    assert.ok(counts.bytesRead <= 64 * 1024, `read ${counts.bytesRead} bytes of a ${size}-byte file`);
    assert.equal(second.stats.tailBytesRead, counts.bytesRead);
    assert.equal(second.stats.chainBreaks, 0);
    const verified = await verifyAuditFile(second.file);
    assert.equal(verified.ok, true);
    assert.equal(verified.records, 9001);
  });

  it('reads further back when the last line is longer than 64 KiB', async () => {
    const first = await open();
    await first.append({ tool_name: 'small', server_name: 's' });
    const big = await first.append({ tool_name: 'big', server_name: 's', metadata: { blob: 'x'.repeat(200 * 1024) } });
    await first.close();
    const { fs: ifs, counts } = instrumentedFs();
    const second = await open({ fs: ifs });
    assert.equal(second.lastHash, big.hash);
    assert.ok(counts.bytesRead >= 200 * 1024 && counts.bytesRead <= 512 * 1024, `read ${counts.bytesRead}`);
    await second.close();
  });

  it('a truncated last line is recorded as a chain break (genesis segment), not silently re-rooted, and verify lists it', async () => {
    const first = await open();
    await first.append({ tool_name: 'a', server_name: 's' });
    const b = await first.append({ tool_name: 'b', server_name: 's' });
    await first.close();
    // A crash mid-write: half a record, no newline.
    await fs.appendFile(first.file, '{"autonomy_level":"L1","duration_ms":3,"emission_so');

    const breaks: AuditChainBreak[] = [];
    const log = new AuditLog({ dir, sessionId: 'sess-2' });
    log.onDidRecordBreak((e) => breaks.push(e));
    await log.open();
    const after = await log.append({ tool_name: 'c', server_name: 's' });
    await log.close();

    assert.equal(breaks.length, 1);
    const marker = breaks[0]!.record;
    assert.equal(marker.tool_name, 'audit_chain_break');
    assert.equal(marker.emission_source, 'gateway');
    assert.equal(marker.prev_hash, GENESIS_HASH);
    assert.equal(marker.status, 'error');
    const meta = marker.metadata as { reason: string; previous_tail: { last_good_hash: string; broken_bytes: number; excerpt: string } };
    assert.equal(meta.reason, 'truncated_tail');
    assert.equal(meta.previous_tail.last_good_hash, b.hash);
    assert.equal(meta.previous_tail.excerpt, '{"autonomy_level":"L1","duration_ms":3,"emission_so');
    assert.equal(after.prev_hash, marker.hash);
    assert.equal(log.stats.chainBreaks, 1);

    const all = await lines(dir);
    assert.equal(all.length, 5, 'a, b, the cut line (kept as evidence), the marker, c');
    assert.equal(JSON.parse(all[3]!).tool_name, 'audit_chain_break');
    const verified = await verifyAuditFile(log.file);
    assert.equal(verified.ok, true, JSON.stringify(verified.breaks));
    assert.equal(verified.recordedBreaks.length, 1);
    assert.equal(verified.recordedBreaks[0]!.line, 4);
    assert.equal(verified.recordedBreaks[0]!.reason, 'truncated_tail');
    assert.equal(verified.recordedBreaks[0]!.explains?.line, 3);
    assert.equal(verified.recordedBreaks[0]!.explains?.reason, 'unparseable');
  });

  it('a corrupt last line (valid JSON, wrong hash) is a recorded break too', async () => {
    const first = await open();
    await first.append({ tool_name: 'a', server_name: 's' });
    await first.append({ tool_name: 'b', server_name: 's' });
    await first.close();
    const all = await lines(dir);
    all[1] = all[1]!.replace('"tool_name":"b"', '"tool_name":"B"');
    await fs.writeFile(first.file, `${all.join('\n')}\n`);
    const log = await open();
    await log.close();
    const records = await parsedLines(dir);
    assert.equal(records[2]!.tool_name, 'audit_chain_break');
    assert.equal((records[2]!.metadata as { reason: string }).reason, 'corrupt_tail:hash_mismatch');
    const verified = await verifyAuditFile(log.file);
    assert.equal(verified.ok, true);
    assert.equal(verified.recordedBreaks[0]!.explains?.line, 2);
  });

  it('a last record that lost only its newline keeps the chain (no break)', async () => {
    const first = await open();
    await first.append({ tool_name: 'a', server_name: 's' });
    const b = await first.append({ tool_name: 'b', server_name: 's' });
    await first.close();
    const text = await fs.readFile(first.file, 'utf8');
    await fs.writeFile(first.file, text.slice(0, -1));
    const log = await open();
    const c = await log.append({ tool_name: 'c', server_name: 's' });
    await log.close();
    assert.equal(c.prev_hash, b.hash);
    assert.equal(log.stats.chainBreaks, 0);
    const verified = await verifyAuditFile(log.file);
    assert.equal(verified.ok, true);
    assert.equal(verified.records, 3);
  });

  it('refuses a record that would not round-trip before anything is written; the chain is unaffected', async () => {
    const log = await open();
    const a = await log.append({ tool_name: 'a', server_name: 's' });
    let reads = 0;
    const shifty = {
      get value(): number {
        return reads++;
      },
    };
    const bad: Array<[string, Parameters<AuditLog['append']>[0]]> = [
      ['BigInt', { tool_name: 'x', server_name: 's', metadata: { n: 10n } }],
      ['lone surrogate', { tool_name: 'x', server_name: 's', error: 'cut here \ud83d' }],
      ['toJSON trap', { tool_name: 'x', server_name: 's', metadata: { t: { toJSON: () => ({ innocent: true }) } } }],
      ['Date', { tool_name: 'x', server_name: 's', metadata: { at: new Date() } }],
      ['getter that changes between reads', { tool_name: 'x', server_name: 's', metadata: { shifty } }],
      ['NaN duration', { tool_name: 'x', server_name: 's', duration_ms: Number.NaN }],
      ['bad status', { tool_name: 'x', server_name: 's', status: 'maybe' as never }],
      ['bad emission source', { tool_name: 'x', server_name: 's', emission_source: 'rea-cli' as never }],
      ['oversized', { tool_name: 'x', server_name: 's', metadata: { blob: 'x'.repeat(1024 * 1024 + 1) } }],
    ];
    for (const [what, input] of bad) {
      await assert.rejects(log.append(input), AuditRecordError, what);
    }
    assert.equal(failures.length, bad.length);
    assert.ok(failures.every((f) => f.phase === 'refused' && f.records === 1));
    const b = await log.append({ tool_name: 'b', server_name: 's' });
    await log.close();
    assert.equal(b.prev_hash, a.hash);
    assert.equal((await lines(dir)).length, 2);
    assert.equal((await verifyAuditFile(log.file)).ok, true);
  });

  it('rotates by size: the old file is renamed, the new one starts with a marker chained to the old tail, the directory verifies', async () => {
    let maxBytes = 1500;
    const log = await open({ rotation: () => ({ max_bytes: maxBytes }) });
    const written: AuditRecord[] = [];
    for (let i = 0; i < 12; i++) written.push(await log.append({ tool_name: `t${i}`, server_name: 's', metadata: { pad: 'x'.repeat(100) } }));
    maxBytes = 1_000_000;
    await log.close();
    assert.ok(log.stats.rotations >= 2, `rotations: ${log.stats.rotations}`);
    const names = (await fs.readdir(dir)).sort();
    // rea's names (SPEC §8.4, Appendix E): UTC seconds, then -1, -2 … within one second.
    const rotated = names.filter((n) => /^audit-\d{8}-\d{6}(-\d{1,4})?\.jsonl$/.test(n));
    assert.equal(rotated.length, log.stats.rotations, names.join(', '));
    const current = await parsedLines(dir);
    const marker = current[0]!;
    assert.equal(marker.tool_name, 'audit.rotation');
    assert.equal(marker.emission_source, 'gateway');
    assert.equal(marker.autonomy_level, 'system');
    const from = (marker.metadata as { rotated_from: string }).rotated_from;
    assert.ok(rotated.includes(from));
    const previous = await parsedLines(dir, from);
    assert.equal(marker.prev_hash, previous.at(-1)!.hash);
    for (const name of [...rotated, 'audit.jsonl']) assert.equal((await fs.stat(path.join(dir, name))).mode & 0o777, 0o600, name);

    const whole = await verifyAuditDir(dir);
    assert.equal(whole.ok, true, JSON.stringify(whole.breaks));
    assert.equal(whole.files.length, rotated.length + 1);
    assert.equal(whole.records, 12 + log.stats.rotations);
    assert.equal(whole.anchor, undefined, 'the first segment starts at genesis');
    assert.equal(whole.lastHash, written.at(-1)!.hash);
    // The current file alone verifies from its rotation marker as anchor.
    const alone = await verifyAuditFile(log.file);
    assert.equal(alone.ok, true);
    assert.equal(alone.anchor?.rotatedFrom, from);
  });

  it('rotated files carry rea\'s names: audit-YYYYMMDD-HHMMSS.jsonl in UTC, -1 … -N within one second; verify and --since follow them', async () => {
    // 23:59:59 UTC: a local-time name would differ from the UTC one in most time zones.
    const clock = new ManualClock(Date.parse('2026-12-01T23:59:59.500Z'));
    const log = await open({ clock, rotation: () => ({ max_bytes: 600 }) });
    for (let i = 0; i < 14; i++) await log.append({ tool_name: `t${i}`, server_name: 's', metadata: { pad: 'x'.repeat(200) } });
    await log.close();
    const rotated = (await fs.readdir(dir)).filter((n) => n.startsWith('audit-')).sort();
    const expected = ['audit-20261201-235959.jsonl', ...Array.from({ length: log.stats.rotations - 1 }, (_, i) => `audit-20261201-235959-${i + 1}.jsonl`)].sort();
    assert.ok(log.stats.rotations >= 11, `enough rotations that -10 sorts before -2: ${log.stats.rotations}`);
    assert.deepEqual(rotated, expected);
    const whole = await verifyAuditDir(dir);
    assert.equal(whole.ok, true, JSON.stringify(whole.firstBreak));
    assert.equal(whole.files.length, log.stats.rotations + 1);
    // --since: that segment (its marker taken as the anchor) and everything after it.
    const since = await verifyAuditDir(dir, { since: 'audit-20261201-235959-2.jsonl' });
    assert.equal(since.ok, true, JSON.stringify(since.firstBreak));
    assert.deepEqual(since.files.map((f) => path.basename(f)), [...Array.from({ length: log.stats.rotations - 2 }, (_, i) => `audit-20261201-235959-${i + 2}.jsonl`), 'audit.jsonl']);
    await assert.rejects(verifyAuditDir(dir, { since: 'audit-20990101-000000.jsonl' }), /no rotated file audit-20990101-000000\.jsonl/);
  });

  it('rotates by age when the policy has a rotation block (default 30 days)', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00.000Z'));
    const log = await open({ clock, rotation: () => ({}) });
    await log.append({ tool_name: 'old', server_name: 's' });
    clock.advance(29 * 86_400_000);
    await log.append({ tool_name: 'still-young', server_name: 's' });
    assert.equal(log.stats.rotations, 0);
    clock.advance(2 * 86_400_000);
    await log.append({ tool_name: 'new', server_name: 's' });
    await log.close();
    assert.equal(log.stats.rotations, 1);
    const current = await parsedLines(dir);
    assert.deepEqual(current.map((r) => r.tool_name), ['audit.rotation', 'new']);
    assert.equal((await verifyAuditDir(dir)).ok, true);
  });

  it('a failed write rejects exactly its records, reports it, and the log recovers', async () => {
    const { fs: ifs } = instrumentedFs((n) => (n === 1 ? 'throw' : undefined));
    const log = await open({ fs: ifs });
    const lost = log.append({ tool_name: 'lost', server_name: 's' });
    await assert.rejects(lost, /ENOSPC/);
    assert.deepEqual(failures.map((f) => [f.phase, f.records]), [['write', 1]]);
    const ok = await log.append({ tool_name: 'kept', server_name: 's' });
    await log.close();
    assert.equal(ok.prev_hash, GENESIS_HASH);
    assert.equal((await verifyAuditFile(log.file)).ok, true);
  });

  it('a partial write leaves a cut line: the next write records the break instead of gluing onto it', async () => {
    const { fs: ifs } = instrumentedFs((n) => (n === 2 ? 'partial' : undefined));
    const log = await open({ fs: ifs });
    await log.append({ tool_name: 'a', server_name: 's' });
    await assert.rejects(log.append({ tool_name: 'half', server_name: 's' }), /EIO/);
    const c = await log.append({ tool_name: 'c', server_name: 's' });
    await log.close();
    const records = (await lines(dir)).map((l) => {
      try {
        return (JSON.parse(l) as AuditRecord).tool_name;
      } catch {
        return '<cut>';
      }
    });
    assert.deepEqual(records, ['a', '<cut>', 'audit_chain_break', 'c']);
    assert.equal(log.stats.chainBreaks, 1);
    assert.notEqual(c.prev_hash, GENESIS_HASH);
    const verified = await verifyAuditFile(log.file);
    assert.equal(verified.ok, true);
    assert.equal(verified.recordedBreaks.length, 1);
  });

  it('notices the file being deleted under it and records that as a break', async () => {
    const log = await open();
    await log.append({ tool_name: 'a', server_name: 's' });
    await fs.rm(log.file);
    const b = await log.append({ tool_name: 'b', server_name: 's' });
    await log.close();
    const records = await parsedLines(dir);
    assert.deepEqual(records.map((r) => r.tool_name), ['audit_chain_break', 'b']);
    assert.equal((records[0]!.metadata as { reason: string }).reason, 'file_replaced');
    assert.equal(b.prev_hash, records[0]!.hash);
    assert.equal((await verifyAuditFile(log.file)).ok, true);
  });

  it('follows records another writer appended to the same file instead of forking the chain', async () => {
    const one = await open();
    await one.append({ tool_name: 'one-1', server_name: 's' });
    const two = await open();
    const other = await two.append({ tool_name: 'two-1', server_name: 's' });
    await two.close();
    const next = await one.append({ tool_name: 'one-2', server_name: 's' });
    await one.close();
    assert.equal(next.prev_hash, other.hash);
    assert.equal((await verifyAuditFile(one.file)).ok, true);
  });

  it('continues a chain rea wrote (insertion-order hashes) without a break', async () => {
    const body = {
      timestamp: '2026-04-20T12:00:01.000Z',
      session_id: 'rea',
      tool_name: 'ping',
      server_name: 'mock',
      tier: 'read',
      status: 'allowed',
      autonomy_level: 'L1',
      duration_ms: 2,
      prev_hash: GENESIS_HASH,
    };
    const reaLine = JSON.stringify({ ...body, hash: sha256(JSON.stringify(body)) });
    await fs.writeFile(path.join(dir, 'audit.jsonl'), `${reaLine}\n`, { mode: 0o644 });
    const log = await open();
    const next = await log.append({ tool_name: 'ours', server_name: 'mock' });
    await log.close();
    assert.equal(next.prev_hash, (JSON.parse(reaLine) as AuditRecord).hash);
    assert.equal(log.stats.chainBreaks, 0);
    assert.equal((await fs.stat(log.file)).mode & 0o777, 0o600, 'tightened to 0600');
    const verified = await verifyAuditFile(log.file);
    assert.equal(verified.ok, true);
    assert.equal(verified.legacyRecords, 1);
  });

  it('close() flushes what is queued; appends after close are refused and reported', async () => {
    const log = await open();
    const queued = [log.append({ tool_name: 'a', server_name: 's' }), log.append({ tool_name: 'b', server_name: 's' })];
    await log.close();
    assert.equal((await Promise.all(queued)).length, 2);
    assert.equal((await lines(dir)).length, 2);
    await assert.rejects(log.append({ tool_name: 'late', server_name: 's' }), AuditRecordError);
    assert.deepEqual(failures.map((f) => f.phase), ['closed']);
  });

  it('an open failure is reported and the next append retries', async () => {
    const blocker = path.join(dir, 'not-a-dir');
    await fs.writeFile(blocker, '');
    const log = new AuditLog({ dir: path.join(blocker, 'sub') });
    log.onDidFail((f) => failures.push(f));
    await assert.rejects(log.append({ tool_name: 'a', server_name: 's' }));
    assert.equal(failures[0]?.phase, 'open');
    await fs.rm(blocker);
    const record = await log.append({ tool_name: 'b', server_name: 's' });
    assert.equal(record.prev_hash, GENESIS_HASH);
    await log.close();
  });

  it('onDidAppend reports written records in chain order', async () => {
    const log = await open();
    const seen: string[] = [];
    log.onDidAppend((records) => seen.push(...records.map((r) => r.tool_name)));
    await Promise.all([1, 2, 3].map((i) => log.append({ tool_name: `t${i}`, server_name: 's' })));
    await log.close();
    assert.deepEqual(seen, ['t1', 't2', 't3']);
  });
});

describe('AuditLog without its lock', () => {
  it('writes anyway when rea\'s lock cannot be taken (read-only parent, a stuck holder), and says so', async () => {
    const dir = tempDir('gatehouse-nolock-');
    const failures: AuditFailure[] = [];
    const errors: string[] = [];
    const lock = { acquire: () => Promise.reject(Object.assign(new Error('EACCES: permission denied, mkdir'), { code: 'EACCES' })) };
    const log = await AuditLog.open({ dir, lock, logger: { ...nullLogger, error: (m: string) => errors.push(m) } });
    log.onDidFail((f) => failures.push(f));
    const record = await log.append({ tool_name: 'kept', server_name: 's' });
    await log.close();
    assert.equal(record.tool_name, 'kept');
    assert.deepEqual(failures.map((f) => [f.phase, f.records]), [['lock', 0]]);
    assert.match(errors.join('\n'), /cannot take the lock .* writing without it/);
    assert.equal((await verifyAuditDir(dir)).ok, true);
    await fs.rm(dir, { recursive: true, force: true });
  });
});
