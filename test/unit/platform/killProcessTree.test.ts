import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signalProcessTree, taskkillCommand, type KillableChild } from '../../../extension/platform/killProcessTree';

function child(pid: number | undefined): KillableChild & { kills: string[] } {
  const kills: string[] = [];
  return { pid, kills, kill: (signal) => (kills.push(signal ?? 'SIGTERM'), true) };
}

test('Windows: stop, respawn and shutdown end the whole tree with taskkill /T /F, never the root alone first', () => {
  const runs: { command: string; args: readonly string[] }[] = [];
  const c = child(4242);
  const seam = { platform: 'win32' as const, env: { SystemRoot: 'C:\\Windows' }, run: (command: string, args: readonly string[]) => void runs.push({ command, args }) };
  signalProcessTree(c, 'SIGTERM', seam);
  signalProcessTree(c, 'SIGKILL', seam);
  // /T: the tree (npx.cmd → node → its children); /F: console programs ignore the WM_CLOSE of a plain taskkill.
  const expected = { command: 'C:\\Windows\\System32\\taskkill.exe', args: ['/T', '/F', '/PID', '4242'] };
  assert.deepEqual(runs, [expected, expected]);
  assert.deepEqual(c.kills, [], 'killing the root first would orphan its tree from taskkill');
  // Named by full path so a taskkill.exe on a workspace's PATH is not what runs.
  assert.deepEqual(taskkillCommand(7, { SYSTEMROOT: 'D:\\Win' }), { command: 'D:\\Win\\System32\\taskkill.exe', args: ['/T', '/F', '/PID', '7'] });
  assert.equal(taskkillCommand(7, {}).command, 'taskkill.exe');
});

test('Windows: when taskkill cannot start, the child itself is killed', () => {
  const c = child(5);
  signalProcessTree(c, 'SIGKILL', { platform: 'win32', env: {}, run: (_command, _args, onFailure) => onFailure() });
  assert.deepEqual(c.kills, ['SIGKILL']);
});

test('Linux and macOS: the signal goes to the process group (-pid); the child alone only when that fails', () => {
  for (const platform of ['linux', 'darwin'] as const) {
    const sent: [number, string][] = [];
    const c = child(99);
    signalProcessTree(c, 'SIGTERM', { platform, signal: (pid, signal) => void sent.push([pid, signal]) });
    assert.deepEqual(sent, [[-99, 'SIGTERM']]);
    assert.deepEqual(c.kills, []);
    const gone = child(100);
    signalProcessTree(gone, 'SIGKILL', {
      platform,
      signal: () => {
        throw Object.assign(new Error('kill ESRCH'), { code: 'ESRCH' });
      },
    });
    assert.deepEqual(gone.kills, ['SIGKILL']);
  }
});

test('a child that never started (no pid) is left alone', () => {
  const c = child(undefined);
  let ran = false;
  signalProcessTree(c, 'SIGKILL', { platform: 'win32', run: () => void (ran = true) });
  signalProcessTree(undefined, 'SIGKILL');
  assert.equal(ran, false);
  assert.deepEqual(c.kills, []);
});
