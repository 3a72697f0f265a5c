/**
 * The watchdog's macOS and Windows paths, run on Linux through the platform seams (issue 18):
 *
 * - macOS: the real `ps -A -o pid=,ppid=,lstart=` (procps prints lstart as BSD ps does in the C
 *   locale), real process groups, a real SIGKILL of the "gateway".
 * - Windows: the watchdog's own parser and tree walk on a recorded PowerShell listing, and a
 *   stand-in taskkill that records its arguments (no Windows here to end processes on).
 *
 * What this does not show: BSD ps itself, PowerShell's real output on a given Windows build,
 * taskkill's behaviour. Those are covered by the recorded outputs in
 * test/unit/platform/processTable.test.ts and by the CI matrix on hosted runners.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { listProcesses } from '../../extension/platform/processTable';
import { tempDir } from '../helpers/fixtures';
import { alive, until } from '../helpers/poll';
import { running } from '../helpers/running';

const HOLDER = path.join(import.meta.dirname, '..', 'fixtures', 'guard', 'guardHolder.ts');
const strays = new Set<number>();
after(() => {
  for (const pid of strays) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
});

/** Starts the holder and waits for "ready"; returns it with its watchdog's pid. */
async function holder(args: unknown): Promise<{ child: ChildProcess; watchdog: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const line = await until('the holder is ready', () => /^ready (\d+) (.*)$/m.exec(out), 30_000);
  const watchdog = Number(line[1]);
  strays.add(watchdog);
  return { child, watchdog };
}

/** A process leading its own group, with a grandchild in that group; both ignore SIGTERM. */
function group(): { leader: number; pidFile: string } {
  const pidFile = path.join(tempDir('gatehouse-elsewhere-'), 'grandchild');
  const script = `const c = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(c.pid)); setInterval(() => {}, 1000);`;
  const p = spawn(process.execPath, ['-e', script], { detached: true, stdio: 'ignore' });
  p.unref();
  strays.add(p.pid as number);
  return { leader: p.pid as number, pidFile };
}

describe('the watchdog without procfs', { skip: process.platform !== 'linux' && 'runs the other platforms through seams on Linux' }, () => {
  test('macOS path: start times from ps, the group of a SIGKILLed gateway ends', async () => {
    const { leader, pidFile } = group();
    const grandchild = Number(await until('the grandchild', () => (existsSync(pidFile) ? readFileSync(pidFile, 'utf8') : undefined)));
    const table = await listProcesses({ platform: 'darwin' });
    assert.ok(table?.some((p) => p.pid === leader && /^\d{14}$/.test(p.startTime)), 'ps lists the leader with a start time');
    const gw = await holder({ platform: 'darwin', children: [{ pid: leader }] });
    gw.child.kill('SIGKILL');
    await until('leader and grandchild gone', () => !running(leader) && !running(grandchild), 20_000, 50);
    await until('the watchdog exits', () => !alive(gw.watchdog), 20_000);
  });

  test('macOS path: a recorded pid that now has another start time is left alone', async () => {
    const { leader } = group();
    const gw = await holder({ platform: 'darwin', watchdog: undefined, children: [{ pid: leader, startTime: '20000101000000' }] });
    gw.child.kill('SIGKILL');
    await until('the watchdog exits', () => !alive(gw.watchdog), 20_000);
    assert.ok(running(leader), 'the reused pid lives');
  });

  test("Windows path: the watchdog lists once and taskkills the child's tree, orphans included, never a reused pid", async () => {
    const dir = tempDir('gatehouse-elsewhere-win-');
    const listing = ['4 0 134090784000000000', '1204 884 134091648000000000', '7344 5120 134091648123450000', '7352 7344 134091648130000000', '6000 5120 134091600000000000', ''].join('\r\n');
    const taskkill = path.join(dir, 'taskkill');
    const calls = path.join(dir, 'calls');
    writeFileSync(taskkill, `#!/bin/sh\necho "$@" >> '${calls}'\n`);
    chmodSync(taskkill, 0o755);
    const gw = await holder({
      platform: 'win32',
      watchdog: { platform: 'win32', list: { command: process.execPath, args: ['-e', `process.stdout.write(${JSON.stringify(listing)})`] }, taskkill },
      children: [
        { pid: 5120, startTime: '134091648100000000' }, // npx.cmd's cmd.exe, exited: its node tree is left
        { pid: 1204, startTime: '134091000000000001' }, // a reused pid: another start time now
      ],
    });
    gw.child.kill('SIGKILL');
    await until('the watchdog exits', () => !alive(gw.watchdog), 20_000);
    assert.equal(readFileSync(calls, 'utf8'), '/F /PID 7344 /PID 7352\n');
  });
});
