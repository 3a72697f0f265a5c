/**
 * Files on Windows, through the platform seams: the atomic replace retries the transient
 * sharing violations NTFS reports while a scanner or reader holds the target (EPERM, EACCES,
 * EBUSY; the codes libuv maps ERROR_ACCESS_DENIED and ERROR_SHARING_VIOLATION to), and the
 * config folder is restricted to the user with icacls, since Windows ignores mode 0600.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { REPLACE_RETRY_DELAYS_MS, replaceFile } from '../../../extension/platform/replaceFile';
import { icaclsCommand, restrictToUser } from '../../../extension/platform/restrictToUser';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: operation not permitted, rename`), { code });
}

test('Windows: a replace that meets EPERM/EBUSY/EACCES is retried until the holder lets go', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'gh-replace-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const code of ['EPERM', 'EBUSY', 'EACCES']) {
    const tmp = path.join(dir, `.state.${code}.tmp`);
    const target = path.join(dir, 'serve.state.json');
    await writeFile(tmp, code);
    let failures = 3;
    const slept: number[] = [];
    const { rename } = await import('node:fs/promises');
    await replaceFile(tmp, target, {
      platform: 'win32',
      sleep: async (ms) => void slept.push(ms),
      rename: async (from, to) => {
        if (failures-- > 0) throw errno(code);
        await rename(from, to);
      },
    });
    assert.equal(await readFile(target, 'utf8'), code);
    assert.deepEqual(slept, REPLACE_RETRY_DELAYS_MS.slice(0, 3));
  }
});

test('Windows: the retry is bounded, and other errors are not retried', async () => {
  let attempts = 0;
  const slept: number[] = [];
  const seam = { platform: 'win32' as const, sleep: async (ms: number) => void slept.push(ms) };
  await assert.rejects(replaceFile('a', 'b', { ...seam, rename: async () => (attempts++, Promise.reject(errno('EPERM'))) }), /EPERM/);
  assert.equal(attempts, REPLACE_RETRY_DELAYS_MS.length + 1);
  assert.ok(slept.reduce((a, b) => a + b, 0) < 2000, 'gives up within about a second');
  attempts = 0;
  await assert.rejects(replaceFile('a', 'b', { ...seam, rename: async () => (attempts++, Promise.reject(errno('ENOENT'))) }), /ENOENT/);
  assert.equal(attempts, 1);
});

test('Linux and macOS: rename(2) is atomic and EPERM is permanent: no retry', async () => {
  for (const platform of ['linux', 'darwin'] as const) {
    let attempts = 0;
    await assert.rejects(replaceFile('a', 'b', { platform, sleep: async () => undefined, rename: async () => (attempts++, Promise.reject(errno('EPERM'))) }), /EPERM/);
    assert.equal(attempts, 1);
  }
});

test('Windows: the config folder is left to the user alone (icacls, inheritance removed, inherited by new files), once', async () => {
  const env = { USERNAME: 'ada', USERDOMAIN: 'DESKTOP-1', SystemRoot: 'C:\\Windows' };
  assert.deepEqual(icaclsCommand('C:\\src\\app\\.gatehouse', env), {
    command: 'C:\\Windows\\System32\\icacls.exe',
    args: ['C:\\src\\app\\.gatehouse', '/inheritance:r', '/grant:r', 'DESKTOP-1\\ada:(OI)(CI)F', '/q'],
  });
  assert.equal(icaclsCommand('C:\\x', {}), undefined, 'no user name: nothing to grant to');
  const runs: string[][] = [];
  const run = async (command: string, args: readonly string[]) => (runs.push([command, ...args]), 0);
  assert.equal(await restrictToUser('C:\\src\\app\\.gatehouse', { platform: 'win32', env, run }), true);
  assert.equal(await restrictToUser('c:\\SRC\\app\\.gatehouse', { platform: 'win32', env, run }), true);
  assert.equal(runs.length, 1, 'once per folder per process (NTFS paths compare case-insensitively)');
  assert.equal(await restrictToUser('C:\\other', { platform: 'win32', env, run: async () => 5 }), false, 'icacls failing is reported');
  assert.equal(await restrictToUser('C:\\other', { platform: 'win32', env: {}, run }), false);
  assert.equal(runs.length, 1);
});

test('Linux and macOS: modes do the work, no helper runs', async () => {
  let ran = false;
  for (const platform of ['linux', 'darwin'] as const) {
    assert.equal(await restrictToUser('/w/.gatehouse', { platform, run: async () => ((ran = true), 0) }), true);
  }
  assert.equal(ran, false);
});
