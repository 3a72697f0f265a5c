import assert from 'node:assert/strict';
import type * as Fs from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import * as fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { ManualClock } from '../../../extension/common/clock';
import { AuditLog } from '../../../extension/gateway/audit/auditLog';
import type { AuditInput, AuditRecord } from '../../../extension/gateway/audit/auditRecord';
import { verifyAuditFile } from '../../../extension/gateway/audit/verifyAudit';
import { freeze, haltMessage, readHalt, unfreeze } from '../../../extension/gateway/halt';
import { tempDir } from '../../helpers/fixtures';

// The module objects halt.ts reads its functions from at call time (to count its calls).
const realFsp = createRequire(__filename)('node:fs/promises') as typeof FsPromises;
const realFs = createRequire(__filename)('node:fs') as typeof Fs;
const isRoot = process.getuid?.() === 0;

describe('HALT kill switch', () => {
  let dir: string;
  const clock = new ManualClock(Date.parse('2026-04-20T12:00:01.000Z'));
  beforeEach(() => {
    dir = tempDir('gatehouse-halt-');
  });
  afterEach(async () => {
    mock.restoreAll();
    await fs.chmod(dir, 0o700).catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  });
  const halt = (): string => path.join(dir, 'HALT');

  describe('readHalt', () => {
    it('absent when there is no HALT', async () => {
      assert.deepEqual(await readHalt(dir, clock), { decision: 'absent' });
    });

    it('present with the trimmed reason and the time of the decision (not the mtime)', async () => {
      await fs.writeFile(halt(), '  incident (frozen at 2026-04-20T11:59:00.000Z)\n\n');
      assert.deepEqual(await readHalt(dir, clock), {
        decision: 'present',
        reason: 'incident (frozen at 2026-04-20T11:59:00.000Z)',
        checkedAt: '2026-04-20T12:00:01.000Z',
      });
    });

    it('uses exactly one open() per probe and nothing else that looks the path up (no stat-then-open window)', async () => {
      await fs.writeFile(halt(), 'x');
      const open = mock.method(realFs, 'open');
      const lookups = [
        mock.method(realFsp, 'open'),
        ...(['stat', 'lstat', 'access'] as const).flatMap((name) => [mock.method(realFsp, name), mock.method(realFs, name)]),
        mock.method(realFs, 'openSync'),
        mock.method(realFs, 'existsSync'),
      ];
      const count = (): number => lookups.reduce((n, m) => n + m.mock.callCount(), 0);
      assert.equal((await readHalt(dir, clock)).decision, 'present');
      const before = count();
      await fs.rm(halt()); // rm itself may stat: not counted
      const skip = count() - before;
      assert.equal((await readHalt(dir, clock)).decision, 'absent');
      assert.equal(open.mock.callCount(), 2);
      assert.deepEqual(open.mock.calls.map((c) => c.arguments.slice(0, 2)), [
        [halt(), 'r'],
        [halt(), 'r'],
      ]);
      assert.equal(count() - skip, 0);
    });

    it('reads at most 1024 bytes of reason and drops a character the cut split', async () => {
      await fs.writeFile(halt(), `${'a'.repeat(1023)}€ and more that is never read`);
      const state = await readHalt(dir, clock);
      assert.equal(state.decision, 'present');
      assert.equal(state.decision === 'present' && state.reason, 'a'.repeat(1023));
    });

    it('an empty HALT is present with an empty reason; control characters do not reach the reason', async () => {
      await fs.writeFile(halt(), '');
      assert.deepEqual(await readHalt(dir, clock), { decision: 'present', reason: '', checkedAt: '2026-04-20T12:00:01.000Z' });
      await fs.writeFile(halt(), 'bad\u001b[31m news\u0000');
      const state = await readHalt(dir, clock);
      assert.equal(state.decision === 'present' && state.reason, 'bad [31m news');
    });

    it('HALT as a directory fails closed (opens on POSIX, the read fails: present, empty reason)', async () => {
      await fs.mkdir(halt());
      const state = await readHalt(dir, clock);
      assert.notEqual(state.decision, 'absent');
      if (process.platform !== 'win32') assert.deepEqual(state, { decision: 'present', reason: '', checkedAt: '2026-04-20T12:00:01.000Z' });
    });

    it('any other error is unknown (fail closed): the config dir is a file (ENOTDIR), a symlink loop (ELOOP)', async () => {
      const notADir = path.join(dir, 'file');
      await fs.writeFile(notADir, '');
      const enotdir = await readHalt(notADir, clock);
      assert.equal(enotdir.decision, 'unknown');
      assert.equal(enotdir.decision === 'unknown' && enotdir.code, 'ENOTDIR');
      assert.equal(enotdir.decision === 'unknown' && enotdir.checkedAt, '2026-04-20T12:00:01.000Z');

      await fs.symlink(halt(), halt());
      const eloop = await readHalt(dir, clock);
      assert.equal(eloop.decision === 'unknown' && eloop.code, 'ELOOP');
    });

    it('an unreadable HALT directory (EACCES) is unknown, not absent', { skip: isRoot ? 'root ignores permissions' : false }, async () => {
      await fs.writeFile(halt(), 'x');
      await fs.chmod(dir, 0o000);
      const state = await readHalt(dir, clock);
      assert.equal(state.decision === 'unknown' && state.code, 'EACCES');
    });

    it('haltMessage names the reason and how to resume', () => {
      assert.equal(haltMessage('incident (frozen at X)'), 'Kill switch active: incident (frozen at X). Run `gatehouse unfreeze` (or "Gatehouse: Unfreeze") to resume tool calls.');
      assert.match(haltMessage(''), /^Kill switch active: HALT present\. /);
    });
  });

  describe('freeze / unfreeze', () => {
    it('freeze writes "<reason> (frozen at <ISO>)\\n" (mode 0600) and a gateway-originated audit record', async () => {
      const log = await AuditLog.open({ dir, sessionId: 'sess', clock });
      const result = await freeze(dir, '  leaked\ttoken\u0007 ', log, { clock });
      assert.equal(result.content, 'leaked token (frozen at 2026-04-20T12:00:01.000Z)\n');
      assert.equal(await fs.readFile(halt(), 'utf8'), result.content);
      assert.equal((await fs.stat(halt())).mode & 0o777, 0o600);
      assert.deepEqual(await readHalt(dir, clock), { decision: 'present', reason: 'leaked token (frozen at 2026-04-20T12:00:01.000Z)', checkedAt: '2026-04-20T12:00:01.000Z' });
      const record = result.record!;
      assert.equal(record.tool_name, 'freeze');
      assert.equal(record.server_name, 'gatehouse');
      assert.equal(record.emission_source, 'gateway');
      assert.equal(record.status, 'allowed');
      assert.deepEqual(record.metadata, { reason: 'leaked token', frozen_at: '2026-04-20T12:00:01.000Z' });
      assert.deepEqual((await fs.readdir(dir)).filter((f) => f.endsWith('.tmp')), [], 'no temp file left');

      const off = await unfreeze(dir, log, { clock });
      assert.equal(off.wasFrozen, true);
      assert.equal(off.previousReason, 'leaked token (frozen at 2026-04-20T12:00:01.000Z)');
      assert.equal(off.record?.tool_name, 'unfreeze');
      assert.equal(off.record?.emission_source, 'gateway');
      assert.deepEqual(off.record?.metadata, { was_frozen: true, previous_reason: 'leaked token (frozen at 2026-04-20T12:00:01.000Z)' });
      assert.deepEqual(await readHalt(dir, clock), { decision: 'absent' });
      await log.close();
      const verified = await verifyAuditFile(log.file);
      assert.equal(verified.ok, true);
      assert.equal(verified.records, 2);
    });

    it('freeze refuses an empty (or control-only) reason and an over-long one, writing nothing', async () => {
      const appended: AuditInput[] = [];
      const audit = { append: async (i: AuditInput) => (appended.push(i), {} as AuditRecord) };
      await assert.rejects(freeze(dir, ' \u0000\n ', audit), /needs a reason/);
      await assert.rejects(freeze(dir, 'x'.repeat(961), audit), /longer than 960 bytes/);
      assert.deepEqual(await readHalt(dir), { decision: 'absent' });
      assert.equal(appended.length, 0);
    });

    it('freeze engages the switch even when the audit append fails', async () => {
      const audit = { append: async (): Promise<AuditRecord> => Promise.reject(new Error('disk full')) };
      const result = await freeze(dir, 'incident', audit, { clock });
      assert.equal(result.auditError?.message, 'disk full');
      assert.equal((await readHalt(dir, clock)).decision, 'present');
    });

    it('unfreeze without HALT is not an error, and is still audited', async () => {
      const appended: AuditInput[] = [];
      const audit = { append: async (i: AuditInput) => (appended.push(i), {} as AuditRecord) };
      const result = await unfreeze(dir, audit);
      assert.equal(result.wasFrozen, false);
      assert.equal(result.previousReason, null);
      assert.equal(appended.length, 1);
      assert.equal(appended[0]!.status, 'allowed');
      assert.deepEqual(appended[0]!.metadata, { was_frozen: false, previous_reason: null });
    });

    it('unfreeze of a HALT that cannot be removed (a directory) throws, audits an error and leaves the switch on', async () => {
      await fs.mkdir(halt());
      const appended: AuditInput[] = [];
      const audit = { append: async (i: AuditInput) => (appended.push(i), {} as AuditRecord) };
      await assert.rejects(unfreeze(dir, audit), /could not remove HALT.*stays on/);
      assert.equal(appended.length, 1);
      assert.equal(appended[0]!.status, 'error');
      assert.equal(appended[0]!.emission_source, 'gateway');
      assert.notEqual((await readHalt(dir)).decision, 'absent');
    });
  });
});
