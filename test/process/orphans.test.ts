/**
 * Issue 13.11: a gateway killed with SIGKILL (or by the OOM killer) runs none of its cleanup.
 * Its children must still die with it (the watchdog), and whatever escaped must be reaped by
 * the next start — by pid AND start time, never a pid the kernel has handed out again.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { WATCHDOG_MARKER } from '../../extension/pool/childGuard';
import { LAUNCHER_MARKER } from '../../extension/pool/childLauncher';
import { processStartTime } from '../../extension/pool/processStartTime';
import { tempDir } from '../helpers/fixtures';
import { makeProject, type Project } from '../helpers/gatewayProject';
import { readState, startHttpGateway, stopAllCli } from '../helpers/gatewayProcess';
import { until } from '../helpers/poll';
import { running } from '../helpers/running';

const strays = new Set<number>();
after(async () => {
  await stopAllCli();
  for (const pid of strays) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
});

function stubbornProject(): { project: Project; pidFile: string } {
  const pidFile = path.join(tempDir('gatehouse-orphans-'), 'pids');
  const project = makeProject([{ name: 'stubborn', fixture: 'ignoresEof.mjs', env: { PID_FILE: pidFile } }]);
  return { project, pidFile };
}

async function stubbornTree(project: Project, pidFile: string, previous = ''): Promise<[number, number]> {
  await until('stubborn ready', () => readState(project.configDir)?.downstreams?.find((d) => d.name === 'stubborn')?.state === 'ready', 20_000);
  const text = await until('the pid file', () => {
    const t = existsSync(pidFile) ? readFileSync(pidFile, 'utf8') : '';
    return t !== previous && / \d+$/.test(t) ? t : undefined;
  });
  const [child, grandchild] = text.split(' ').map(Number) as [number, number];
  strays.add(child);
  return [child, grandchild];
}

/** The gateway's watchdog: its child whose command line carries the marker. */
function watchdogOf(gatewayPid: number, marker = WATCHDOG_MARKER): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === gatewayPid && readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(marker)) return Number(name);
    } catch {
      // exited while we looked
    }
  }
  return undefined;
}

/** A process in its own group that ignores SIGTERM and stdin: a stand-in for anything. */
function bystander(): number {
  const p = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { detached: true, stdio: 'ignore' });
  p.unref();
  strays.add(p.pid as number);
  return p.pid as number;
}

describe('no orphans after the gateway is SIGKILLed', { skip: process.platform !== 'linux' && 'Linux only (procfs)' }, () => {
  test('a child that ignores EOF and its grandchild die with the gateway', async () => {
    const { project, pidFile } = stubbornProject();
    const gw = await startHttpGateway(project.folder);
    const [child, grandchild] = await stubbornTree(project, pidFile);
    assert.ok(running(child) && running(grandchild));
    // Spawned when the first child is tracked, after an asynchronous read of its start time:
    // waited for, as in the next test, rather than assumed done by the time the child is ready.
    await until('a watchdog runs beside the gateway', () => watchdogOf(gw.pid));
    await gw.stop('SIGKILL');
    await until('child and grandchild gone', () => !running(child) && !running(grandchild), 10_000, 50);
  });

  test('the next start reaps what a dead gateway left when the watchdog died too', async () => {
    const { project, pidFile } = stubbornProject();
    const gw = await startHttpGateway(project.folder);
    const [child, grandchild] = await stubbornTree(project, pidFile);
    const recordFile = path.join(project.configDir, `serve.children.${gw.pid}.json`);
    const record = await until('the record file lists the child', () => {
      const r = existsSync(recordFile) ? (JSON.parse(readFileSync(recordFile, 'utf8')) as { children: Array<{ pid: number; start_time: string }> }) : undefined;
      return r?.children.some((c) => c.pid === child) ? r : undefined;
    });
    assert.equal(statSync(recordFile).mode & 0o777, 0o600);
    assert.equal(record.children.find((c) => c.pid === child)?.start_time, await processStartTime(child));

    // The launcher (the children's parent, pool/childLauncher.ts) also kills them when the
    // gateway dies: frozen before the gateway's kill and killed after, it cannot. The gateway is
    // frozen too: awake, it respawns a lost watchdog at once (ChildGuard), and that new watchdog
    // would end the tree — a race this test lost on a loaded CI machine.
    const launcher = await until('the launcher', () => watchdogOf(gw.pid, LAUNCHER_MARKER));
    const watchdog = await until('the watchdog', () => watchdogOf(gw.pid));
    process.kill(launcher, 'SIGSTOP');
    process.kill(gw.pid, 'SIGSTOP');
    process.kill(watchdog, 'SIGKILL');
    await until('watchdog gone', () => !running(watchdog));
    await gw.stop('SIGKILL');
    process.kill(launcher, 'SIGKILL');
    await until('launcher gone', () => !running(launcher));
    assert.ok(running(child) && running(grandchild), 'with no watchdog the tree outlives the gateway');

    const next = await startHttpGateway(project.folder);
    await until('old tree reaped', () => !running(child) && !running(grandchild), 10_000, 50);
    // The line is written after the kill returns: wait for it rather than read stderr at once.
    const reaped = new RegExp(`stopped 1 server process group\\(s\\) a previous gateway left running \\(pids ${child}\\)`);
    await until('the reap is logged', () => reaped.test(next.stderr()), 30_000, 50);
    assert.ok(!existsSync(recordFile), "the dead gateway's record is removed");
    await stubbornTree(project, pidFile, `${child} ${grandchild}`);
  });

  test('a recorded pid with another start time is a reused pid: never killed', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const reused = bystander();
    const leftover = bystander();
    await until('bystanders started', async () => (await processStartTime(reused)) !== null && (await processStartTime(leftover)) !== null);
    // A dead gateway recorded two groups: one whose pid now names another process, one that is
    // still its leftover. Its own pid was reused too (by this test process: another start time).
    const deadOwner = { pid: process.pid, start_time: String(Number(await processStartTime(process.pid)) - 1) };
    writeFileSync(
      path.join(project.configDir, 'serve.children.424242.json'),
      JSON.stringify({
        owner: deadOwner,
        children: [
          { pid: reused, start_time: String(Number(await processStartTime(reused)) - 1) },
          { pid: leftover, start_time: await processStartTime(leftover) },
        ],
      }),
      { mode: 0o600 },
    );
    await startHttpGateway(project.folder);
    await until('leftover reaped', () => !running(leftover), 10_000, 50);
    assert.ok(running(reused), 'the reused pid lives');
    assert.ok(!existsSync(path.join(project.configDir, 'serve.children.424242.json')));
  });
});
