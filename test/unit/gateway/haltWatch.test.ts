import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type * as Fs from 'node:fs';
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { ManualClock } from '../../../extension/common/clock';
import type { AuditRecord } from '../../../extension/gateway/audit/auditRecord';
import { freeze, unfreeze } from '../../../extension/gateway/halt';
import { HaltWatch } from '../../../extension/gateway/haltWatch';
import { tempDir } from '../../helpers/fixtures';
import { until } from '../../helpers/poll';

// The module object halt.ts reads `open` from at call time (to count its probes).
const realFs = createRequire(__filename)('node:fs') as typeof Fs;
const linux = process.platform === 'linux';

describe('HaltWatch', { skip: !linux && 'the watch is used on Linux only' }, () => {
  let dir: string;
  let watch: HaltWatch;
  const clock = new ManualClock(Date.parse('2026-04-20T12:00:01.000Z'));
  const audit = { append: async () => ({}) as AuditRecord };
  beforeEach(() => {
    dir = tempDir('gatehouse-haltwatch-');
    // A recheck far away: what is seen below is seen through the watch, not the timer.
    watch = new HaltWatch(clock, { recheckMs: 3_600_000 });
  });
  afterEach(async () => {
    mock.restoreAll();
    watch.dispose();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('probes once while HALT stays absent', async () => {
    const open = mock.method(realFs, 'open');
    for (let i = 0; i < 5; i++) assert.deepEqual(await watch.read(dir), { decision: 'absent' });
    assert.equal(open.mock.callCount(), 1);
  });

  it('calls that ask in the same turn share one wait for a poll phase; one asking after its first check phase waits anew', async () => {
    assert.equal((await watch.read(dir)).decision, 'absent');
    const immediates = mock.method(globalThis, 'setImmediate');
    const same = await Promise.all(Array.from({ length: 16 }, () => watch.read(dir)));
    assert.ok(same.every((s) => s.decision === 'absent'));
    assert.equal(immediates.mock.callCount(), 2, 'two check phases for 16 calls, not 32');
    // A call that starts once the shared wait passed its first check phase, after HALT was made
    // by another process, waits for a poll phase of its own and sees it.
    const first = watch.read(dir);
    const late = new Promise<string>((resolve) =>
      setImmediate(() => {
        execFileSync(process.execPath, ['-e', `require('node:fs').writeFileSync(${JSON.stringify(path.join(dir, 'HALT'))}, 'late\\n')`]);
        void watch.read(dir).then((s) => resolve(s.decision));
      }),
    );
    await first;
    assert.equal(await late, 'present');
  });

  it('sees a HALT written synchronously by this process, with no turn of the event loop in between', async () => {
    assert.equal((await watch.read(dir)).decision, 'absent');
    writeFileSync(path.join(dir, 'HALT'), 'sync stop\n');
    assert.deepEqual(await watch.read(dir), { decision: 'present', reason: 'sync stop', checkedAt: '2026-04-20T12:00:01.000Z' });
  });

  it('sees a HALT written by another process before the next call', async () => {
    assert.equal((await watch.read(dir)).decision, 'absent');
    execFileSync(process.execPath, ['-e', `require('node:fs').writeFileSync(${JSON.stringify(path.join(dir, 'HALT'))}, 'other process\\n')`]);
    const state = await watch.read(dir);
    assert.equal(state.decision, 'present');
    assert.equal(state.decision === 'present' && state.reason, 'other process');
  });

  it('never remembers present: every call under HALT probes, and unfreeze is seen at once', async () => {
    await freeze(dir, 'stop', audit, { clock });
    const open = mock.method(realFs, 'open');
    assert.equal((await watch.read(dir)).decision, 'present');
    assert.equal((await watch.read(dir)).decision, 'present');
    assert.equal(open.mock.callCount(), 2);
    await unfreeze(dir, audit);
    assert.equal((await watch.read(dir)).decision, 'absent');
    await freeze(dir, 'again', audit, { clock });
    assert.equal((await watch.read(dir)).decision, 'present');
  });

  it('sees a HALT renamed into place and one in a config dir that was replaced', async () => {
    assert.equal((await watch.read(dir)).decision, 'absent');
    writeFileSync(path.join(dir, '.tmp'), 'renamed\n');
    renameSync(path.join(dir, '.tmp'), path.join(dir, 'HALT'));
    assert.equal((await watch.read(dir)).decision, 'present');
    rmSync(path.join(dir, 'HALT'));
    assert.equal((await watch.read(dir)).decision, 'absent');
    rmSync(dir, { recursive: true });
    mkdirSync(dir);
    assert.equal((await watch.read(dir)).decision, 'absent');
    writeFileSync(path.join(dir, 'HALT'), 'new dir\n');
    assert.equal((await watch.read(dir)).decision, 'present');
  });

  it('a HALT that is a dangling link is probed on every call, and seen once its target appears', async () => {
    const target = path.join(dir, 'elsewhere', 'stop');
    symlinkSync(target, path.join(dir, 'HALT'));
    assert.equal((await watch.read(dir)).decision, 'absent');
    mkdirSync(path.dirname(target));
    writeFileSync(target, 'via link\n');
    const state = await watch.read(dir);
    assert.equal(state.decision === 'present' && state.reason, 'via link');
  });

  it('a config dir that does not exist (or is a file) is probed per call, and fails closed as before', async () => {
    const file = path.join(dir, 'plain-file');
    writeFileSync(file, '');
    const state = await watch.read(file);
    assert.equal(state.decision, 'unknown');
    assert.equal((await watch.read(path.join(dir, 'missing'))).decision, 'absent');
    mkdirSync(path.join(dir, 'missing'));
    writeFileSync(path.join(dir, 'missing', 'HALT'), 'late\n');
    assert.equal((await watch.read(path.join(dir, 'missing'))).decision, 'present');
  });

  it('the periodic recheck probes again', async () => {
    const quick = new HaltWatch(clock, { recheckMs: 20 });
    try {
      const open = mock.method(realFs, 'open');
      assert.equal((await quick.read(dir)).decision, 'absent');
      await until('a second probe after the recheck', async () => (await quick.read(dir)).decision === 'absent' && open.mock.callCount() >= 2);
    } finally {
      quick.dispose();
    }
  });
});

describe('HaltWatch without a watch (macOS, Windows)', () => {
  it('probes on every call', async () => {
    const dir = tempDir('gatehouse-haltwatch-');
    const watch = new HaltWatch(new ManualClock(0), { watch: false });
    try {
      const open = mock.method(realFs, 'open');
      await watch.read(dir);
      await watch.read(dir);
      assert.equal(open.mock.callCount(), 2);
    } finally {
      mock.restoreAll();
      watch.dispose();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
