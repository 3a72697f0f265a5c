import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ManualClock } from '../../../extension/common/clock';
import { AuditLog } from '../../../extension/gateway/audit/auditLog';
import { GENESIS_HASH, type AuditRecord } from '../../../extension/gateway/audit/auditRecord';
import { canonicalJson } from '../../../extension/gateway/audit/canonicalJson';
import { compareRotatedNames } from '../../../extension/gateway/audit/rotationName';
import { verifyAuditDir, verifyAuditFile } from '../../../extension/gateway/audit/verifyAudit';
import { repoRoot, tempDir } from '../../helpers/fixtures';

const execFileAsync = promisify(execFile);

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Re-hashes a record the way the writer does (what a careful tamperer would do). */
function rehash(record: AuditRecord): AuditRecord {
  const { hash: _old, ...rest } = record;
  return { ...rest, hash: sha256(canonicalJson(rest)) } as AuditRecord;
}

describe('verifyAuditFile', () => {
  let root: string;
  let good: string[];
  let goodRecords: AuditRecord[];
  let n = 0;

  before(async () => {
    root = tempDir('gatehouse-verify-');
    const dir = path.join(root, 'source');
    const log = await AuditLog.open({ dir, sessionId: 's' });
    goodRecords = [];
    for (let i = 1; i <= 10; i++) goodRecords.push(await log.append({ tool_name: `t${i}`, server_name: 'srv', metadata: { i } }));
    await log.close();
    good = (await fs.readFile(log.file, 'utf8')).trimEnd().split('\n');
  });
  after(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  /** Writes `lines` (joined with \n, plus a trailing \n unless `noFinalNewline`) to a fresh file. */
  async function file(lines: string[], noFinalNewline = false): Promise<string> {
    const p = path.join(root, `case-${n++}.jsonl`);
    await fs.writeFile(p, lines.join('\n') + (noFinalNewline ? '' : '\n'));
    return p;
  }

  it('an intact file verifies: counts, last hash, no breaks', async () => {
    const result = await verifyAuditFile(await file(good));
    assert.equal(result.ok, true);
    assert.equal(result.records, 10);
    assert.equal(result.lines, 10);
    assert.equal(result.lastHash, goodRecords[9]!.hash);
    assert.deepEqual(result.breaks, []);
    assert.equal(result.firstBreak, undefined);
  });

  it('an empty file verifies as an empty chain', async () => {
    const result = await verifyAuditFile(await file([], true));
    assert.equal(result.ok, true);
    assert.equal(result.records, 0);
    assert.equal(result.lastHash, GENESIS_HASH);
  });

  it('changing one field fails exactly at that line, with the recomputed vs stored hash, and only there', async () => {
    const lines = [...good];
    lines[4] = lines[4]!.replace('"tool_name":"t5"', '"tool_name":"t5-edited"');
    const result = await verifyAuditFile(await file(lines));
    assert.equal(result.ok, false);
    assert.equal(result.firstBreak?.line, 5);
    assert.equal(result.firstBreak?.reason, 'hash_mismatch');
    assert.equal(result.firstBreak?.found, goodRecords[4]!.hash);
    assert.equal(result.firstBreak?.expected, sha256(canonicalJson({ ...(JSON.parse(lines[4]!) as object), hash: undefined })));
    assert.equal(result.breakCount, 1, 'the next line still links to the hash line 5 claims');
  });

  it('an edit with a recomputed hash fails at the next line (its prev_hash no longer links)', async () => {
    const lines = [...good];
    const edited = rehash({ ...goodRecords[4]!, status: 'denied' });
    lines[4] = canonicalJson(edited);
    const result = await verifyAuditFile(await file(lines));
    assert.equal(result.firstBreak?.line, 6);
    assert.equal(result.firstBreak?.reason, 'prev_hash_mismatch');
    assert.equal(result.firstBreak?.expected, edited.hash);
    assert.equal(result.firstBreak?.found, goodRecords[4]!.hash);
    assert.equal(result.breakCount, 1);
  });

  it('deleting a line fails at the line that followed it, naming expected and found hashes', async () => {
    const lines = good.filter((_, i) => i !== 3);
    const result = await verifyAuditFile(await file(lines));
    assert.equal(result.ok, false);
    assert.equal(result.firstBreak?.line, 4);
    assert.equal(result.firstBreak?.reason, 'prev_hash_mismatch');
    assert.equal(result.firstBreak?.expected, goodRecords[2]!.hash);
    assert.equal(result.firstBreak?.found, goodRecords[3]!.hash);
    assert.equal(result.breakCount, 1);
  });

  it('deleting the first line fails at line 1 (it no longer starts at genesis)', async () => {
    const result = await verifyAuditFile(await file(good.slice(1)));
    assert.equal(result.firstBreak?.line, 1);
    assert.equal(result.firstBreak?.expected, GENESIS_HASH);
  });

  it('swapping two lines and inserting a copied line are caught', async () => {
    const swapped = [...good];
    [swapped[6], swapped[7]] = [swapped[7]!, swapped[6]!];
    assert.equal((await verifyAuditFile(await file(swapped))).firstBreak?.line, 7);
    const duplicated = [...good.slice(0, 5), good[2]!, ...good.slice(5)];
    assert.equal((await verifyAuditFile(await file(duplicated))).firstBreak?.line, 6);
  });

  it('reports a garbage line, an empty line and a cut last line as breaks', async () => {
    const garbage = await verifyAuditFile(await file([...good.slice(0, 3), 'not json', ...good.slice(3)]));
    assert.equal(garbage.firstBreak?.line, 4);
    assert.equal(garbage.firstBreak?.reason, 'unparseable');
    assert.equal(garbage.breakCount, 1, 'the line after garbage is not blamed as well');

    const blank = await verifyAuditFile(await file([...good.slice(0, 3), '', ...good.slice(3)]));
    assert.equal(blank.firstBreak?.line, 4);
    assert.equal(blank.firstBreak?.reason, 'empty_line');

    const cut = await verifyAuditFile(await file([...good.slice(0, 9), good[9]!.slice(0, 40)], true));
    assert.equal(cut.firstBreak?.line, 10);
    assert.equal(cut.firstBreak?.reason, 'truncated_last_line');
    assert.equal(cut.lastHash, null);
  });

  it('reports invalid UTF-8 and lines past the size limit without buffering them', async () => {
    const p = path.join(root, `case-${n++}.jsonl`);
    const bad = Buffer.concat([Buffer.from(`${good[0]}\n`), Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]), Buffer.from(`${good.slice(1).join('\n')}\n`)]);
    await fs.writeFile(p, bad);
    const utf = await verifyAuditFile(p);
    assert.equal(utf.firstBreak?.line, 2);
    assert.equal(utf.firstBreak?.reason, 'invalid_utf8');

    const long = await verifyAuditFile(await file([good[0]!, 'x'.repeat(300_000), ...good.slice(1)]), { maxLineBytes: 100_000 });
    assert.equal(long.firstBreak?.line, 2);
    assert.equal(long.firstBreak?.reason, 'line_too_long');
    assert.equal(long.records, 10);
  });

  it('tolerates CRLF line endings (a checkout with autocrlf) — content, not bytes, is hashed', async () => {
    const result = await verifyAuditFile(await file(good.map((l) => `${l}\r`)));
    assert.equal(result.ok, true);
  });

  it('a forged chain-break marker does not excuse a deleted line elsewhere, nor a broken link right before it', async () => {
    const marker = rehash({
      ...goodRecords[0]!,
      tool_name: 'audit_chain_break',
      server_name: 'gatehouse',
      emission_source: 'gateway',
      prev_hash: GENESIS_HASH,
      metadata: { reason: 'truncated_tail', previous_tail: { last_good_hash: null } },
    });
    const lines = [...good.slice(0, 3), ...good.slice(4), canonicalJson(marker)];
    const result = await verifyAuditFile(await file(lines));
    assert.equal(result.ok, false);
    assert.equal(result.firstBreak?.line, 4);
    assert.equal(result.recordedBreaks.length, 1);
    assert.equal(result.recordedBreaks[0]!.explains, undefined);

    // A marker right after a line that links wrongly (not a damaged line) explains nothing.
    const lines2 = [...good.slice(0, 3), ...good.slice(4, 6), canonicalJson(marker)];
    const result2 = await verifyAuditFile(await file(lines2));
    assert.equal(result2.firstBreak?.line, 4);
    assert.equal(result2.breakCount, 1);
  });

  it('a marker that names a different last good record does not explain the damaged line', async () => {
    const marker = rehash({
      ...goodRecords[0]!,
      tool_name: 'audit_chain_break',
      server_name: 'gatehouse',
      emission_source: 'gateway',
      prev_hash: GENESIS_HASH,
      metadata: { reason: 'truncated_tail', previous_tail: { last_good_hash: goodRecords[0]!.hash } },
    });
    const result = await verifyAuditFile(await file([...good.slice(0, 5), '{"cut', canonicalJson(marker)]));
    assert.equal(result.ok, false);
    assert.equal(result.firstBreak?.line, 6);
  });

  it('streams a large file with bounded memory: verifies a file bigger than the whole heap it is given', async () => {
    const dir = path.join(root, 'large');
    const log = await AuditLog.open({ dir, fsync: false });
    const pad = 'y'.repeat(2500);
    const all: Array<Promise<AuditRecord>> = [];
    for (let i = 0; i < 8_000; i++) all.push(log.append({ tool_name: `t${i}`, server_name: 's', metadata: { pad } }));
    await Promise.all(all);
    await log.close();
    const size = (await fs.stat(log.file)).size;
    assert.ok(size > 20 * 1024 * 1024, `${size} bytes`);
    // A verifier that read the file whole would need more than 16 MB of heap for it.
    const script = `require(${JSON.stringify(path.join(repoRoot, 'extension/gateway/audit/verifyAudit.ts'))})
      .verifyAuditFile(process.argv[1]).then((r) => console.log(JSON.stringify({ ok: r.ok, records: r.records })))`;
    const { stdout } = await execFileAsync(process.execPath, ['--max-old-space-size=16', '--max-semi-space-size=1', '--import', 'tsx', '-e', script, log.file], {
      cwd: repoRoot,
    });
    assert.deepEqual(JSON.parse(stdout), { ok: true, records: 8_000 });
  });
});

describe('verifyAuditDir', () => {
  it('verifies rotated segments in chain order and anchors on the oldest remaining rotation marker', async () => {
    const dir = tempDir('gatehouse-verify-dir-');
    try {
      let maxBytes = 600;
      const log = await AuditLog.open({ dir, rotation: () => ({ max_bytes: maxBytes }) });
      for (let i = 0; i < 8; i++) await log.append({ tool_name: `t${i}`, server_name: 's' });
      maxBytes = 1e9;
      await log.close();
      const rotated = (await fs.readdir(dir)).filter((f) => f.startsWith('audit-')).sort(compareRotatedNames);
      assert.ok(rotated.length >= 2);
      assert.equal((await verifyAuditDir(dir)).ok, true);

      // Old archives deleted (retention): the oldest remaining segment is the anchor.
      await fs.rm(path.join(dir, rotated[0]!));
      const pruned = await verifyAuditDir(dir);
      assert.equal(pruned.ok, true);
      assert.equal(pruned.anchor?.file, path.join(dir, rotated[1]!));

    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('orders segments by their links when several rotations share a millisecond (name suffixes sort wrongly)', async () => {
    const dir = tempDir('gatehouse-verify-dir-');
    try {
      const clock = new ManualClock(Date.parse('2026-04-20T12:00:00.000Z'));
      let maxBytes = 600;
      const log = await AuditLog.open({ dir, clock, rotation: () => ({ max_bytes: maxBytes }) });
      for (let i = 0; i < 12; i++) await log.append({ tool_name: `t${i}`, server_name: 's' });
      maxBytes = 1e9;
      await log.close();
      const rotated = (await fs.readdir(dir)).filter((f) => f.startsWith('audit-')).sort(compareRotatedNames);
      assert.ok(rotated.some((f) => f.endsWith('-1.jsonl')), rotated.join());
      const result = await verifyAuditDir(dir);
      assert.equal(result.ok, true, JSON.stringify(result.breaks));
      assert.equal(result.anchor, undefined);
      assert.equal(result.records, 12 + rotated.length);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('a missing middle segment breaks the chain at the next segment’s marker', async () => {
    const dir = tempDir('gatehouse-verify-dir-');
    try {
      let maxBytes = 600;
      const log = await AuditLog.open({ dir, rotation: () => ({ max_bytes: maxBytes }) });
      for (let i = 0; i < 12; i++) await log.append({ tool_name: `t${i}`, server_name: 's' });
      maxBytes = 1e9;
      await log.close();
      const rotated = (await fs.readdir(dir)).filter((f) => f.startsWith('audit-')).sort(compareRotatedNames);
      assert.ok(rotated.length >= 3, rotated.join());
      await fs.rm(path.join(dir, rotated[1]!));
      const result = await verifyAuditDir(dir);
      assert.equal(result.ok, false);
      assert.equal(result.firstBreak?.file, path.join(dir, rotated[2]!));
      assert.equal(result.firstBreak?.line, 1);
      assert.equal(result.firstBreak?.reason, 'prev_hash_mismatch');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
