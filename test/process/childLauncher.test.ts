/**
 * The launcher process (pool/childLauncher.ts): children are forked by it, not by this process,
 * and everything the pool relies on still holds through it — real pid and process group, stdio
 * with nothing lost, exit code and signal, ENOENT/EACCES, complete env and cwd, no orphan when
 * the gateway is SIGKILLed, and recovery when the launcher itself dies. The in-process path
 * (Windows, the fallback) is exercised beside it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ChildLauncher, childLauncher, MAX_LAUNCHER_LOSSES, type StartedChild, type StartResult } from '../../extension/pool/childLauncher';
import { ChildProcessTransport, type ChildExit } from '../../extension/pool/childTransport';
import type { DownstreamPool } from '../../extension/pool/pool';
import { RingBuffer } from '../../extension/pool/ringBuffer';
import { fixtureServer, repoRoot, stdioServer, tempDir } from '../helpers/fixtures';
import { alive, until } from '../helpers/poll';
import { running } from '../helpers/running';
import { startPool, textOf } from '../helpers/pool';

const linux = process.platform === 'linux';
const env = (): Record<string, string> => ({ PATH: process.env.PATH ?? '/usr/bin:/bin' });

/** The parent pid of `pid` (Linux /proc). */
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** The process group of `pid` (Linux /proc). */
function groupOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

function started(result: StartResult): StartedChild {
  if ('spawnError' in result) throw result.spawnError;
  return result.child;
}

/** All of a child's stdout as text, and how it ended. */
function collect(child: StartedChild): Promise<{ out: string; err: string; code: number | null; signal: NodeJS.Signals | null }> {
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => (out += d));
  child.stderr?.on('data', (d: string) => (err += d));
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ out, err, code, signal })));
}

const launchers: ChildLauncher[] = [];
function launcher(options: ConstructorParameters<typeof ChildLauncher>[0] = {}): ChildLauncher {
  const l = new ChildLauncher(options);
  launchers.push(l);
  return l;
}
const leftovers = new Set<number>();
after(() => {
  for (const l of launchers) if (l.pid !== undefined) process.kill(l.pid, 'SIGKILL');
  for (const pid of leftovers) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

describe('children forked by the launcher process', { skip: process.platform === 'win32' }, () => {
  test('the child is the launcher\'s, leads its own group, and its stdio, env, cwd and exit code arrive intact', { skip: !linux }, async () => {
    const l = launcher();
    const cwd = tempDir();
    const script = "process.stdin.on('data', (d) => process.stdout.write('got ' + d)); process.stdin.on('end', () => { console.error('env ' + Object.keys(process.env).sort().join(',') + ' cwd ' + process.cwd()); process.exit(7); });";
    const child = started(await l.start({ launch: { command: process.execPath, args: ['-e', script] }, env: { ...env(), ONLY_THIS: '1' }, cwd, cancelled: () => false }));
    const pid = child.pid as number;
    leftovers.add(pid);
    assert.equal(parentOf(pid), l.pid, 'forked by the launcher, not by this process');
    assert.notEqual(l.pid, process.pid);
    assert.equal(groupOf(pid), pid, 'leads its own process group');
    const done = collect(child);
    child.stdin?.write('hello\n');
    child.stdin?.end();
    const result = await done;
    assert.equal(result.out, 'got hello\n');
    assert.match(result.err, /^env ONLY_THIS,PATH cwd /);
    assert.equal(result.err.trim().split(' cwd ')[1], cwd);
    assert.equal(result.code, 7);
    assert.equal(result.signal, null);
  });

  test('output written at once, before the sockets reach this process, is not lost (30 children)', async () => {
    const l = launcher();
    const script = "process.stdout.write('out-' + process.argv[1] + '\\n'); process.stderr.write('err-' + process.argv[1] + '\\n');";
    const results = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const child = started(await l.start({ launch: { command: process.execPath, args: ['-e', script, String(i)] }, env: env(), cancelled: () => false }));
        return collect(child);
      }),
    );
    results.forEach((r, i) => {
      assert.equal(r.out, `out-${i}\n`);
      assert.equal(r.err, `err-${i}\n`);
      assert.equal(r.code, 0);
    });
  });

  test('kill -9 of the child is reported as SIGKILL', async () => {
    const l = launcher();
    const child = started(await l.start({ launch: { command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] }, env: env(), cancelled: () => false }));
    leftovers.add(child.pid as number);
    const done = collect(child);
    process.kill(child.pid as number, 'SIGKILL');
    const result = await done;
    assert.equal(result.code, null);
    assert.equal(result.signal, 'SIGKILL');
  });

  test('ENOENT and EACCES come back as the spawn errors they are, and read to the user as before', async () => {
    const l = launcher();
    const missing = await l.start({ launch: { command: 'gatehouse-no-such-command-x', args: [] }, env: env(), cancelled: () => false });
    assert.ok('spawnError' in missing);
    assert.equal(missing.spawnError.code, 'ENOENT');
    const file = path.join(tempDir(), 'not-executable.sh');
    writeFileSync(file, '#!/bin/sh\necho hi\n');
    chmodSync(file, 0o644);
    const denied = await l.start({ launch: { command: file, args: [] }, env: env(), cancelled: () => false });
    assert.ok('spawnError' in denied);
    assert.equal(denied.spawnError.code, 'EACCES');
    assert.equal(l.usable, true, 'a failed spawn is not a lost launcher');

    // Through the transport (the launcher every transport uses): onexit carries the errno.
    const transport = new ChildProcessTransport({ command: 'gatehouse-no-such-command-x', args: [], env: env() }, new RingBuffer(1024));
    let exit: ChildExit | undefined;
    transport.onexit = (e) => (exit = e);
    await assert.rejects(transport.start(), (err: NodeJS.ErrnoException) => err.code === 'ENOENT');
    assert.equal(exit?.spawnError?.code, 'ENOENT');
  });

  test('an MCP server through the transport: the SDK client lists and calls; close ends it', { skip: !linux }, async () => {
    const transport = new ChildProcessTransport({ command: process.execPath, args: [fixtureServer('echo.mjs')], env: env(), cwd: repoRoot }, new RingBuffer(4096));
    const client = new Client({ name: 't', version: '1' });
    await client.connect(transport);
    const pid = transport.pid as number;
    leftovers.add(pid);
    assert.equal(parentOf(pid), childLauncher.pid);
    const { tools } = await client.listTools();
    assert.ok(tools.length > 0);
    await transport.close();
    await until('the child gone', () => !running(pid));
  });
});

describe('a transport stopped while its child is starting', () => {
  test('kill() before the launcher (or the gate) answered: start() fails and no child is left', async () => {
    const transport = new ChildProcessTransport({ command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'], env: env() }, new RingBuffer(1024));
    let closed = false;
    transport.onclose = () => (closed = true);
    const starting = transport.start();
    await transport.kill(); // a shutdown while the server is still starting (connection.stop)
    await assert.rejects(starting, /closed before the child was started/);
    assert.equal(transport.pid, undefined);
    assert.equal(closed, true, 'onclose fired, as for a close() before the start');
  });
});

describe('when a process dies', { skip: process.platform === 'win32' }, () => {
  test('gateway SIGKILLed: the launcher kills its children, then exits (no orphan, no watchdog needed)', { skip: !linux }, async () => {
    // A gateway of its own that starts one child through a launcher and reports both pids.
    const script = `
      import { childLauncher } from ${JSON.stringify(path.join(repoRoot, 'extension/pool/childLauncher.ts'))};
      const r = await childLauncher.start({ launch: { command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] }, env: { PATH: process.env.PATH }, cancelled: () => false });
      console.log(JSON.stringify({ child: r.child.pid, launcher: childLauncher.pid }));
      setInterval(() => {}, 1000);
    `;
    const file = path.join(tempDir(), 'gateway.mts');
    writeFileSync(file, script);
    const gateway = spawn(process.execPath, ['--import', 'tsx', file], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    gateway.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
    const pids = await until('the pids', () => (text.includes('\n') ? (JSON.parse(text) as { child: number; launcher: number }) : undefined), 30_000);
    leftovers.add(pids.child).add(pids.launcher);
    assert.equal(parentOf(pids.child), pids.launcher);
    gateway.kill('SIGKILL');
    await until('the child gone', () => !running(pids.child));
    await until('the launcher gone', () => !running(pids.launcher));
  });

  test('launcher SIGKILLed: its children are ended and reported, and the next spawn gets a new launcher', async () => {
    const l = launcher();
    const child = started(await l.start({ launch: { command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] }, env: env(), cancelled: () => false }));
    leftovers.add(child.pid as number);
    const first = l.pid as number;
    const done = collect(child);
    process.kill(first, 'SIGKILL');
    const result = await done;
    assert.equal(result.signal, 'SIGKILL');
    await until('the child gone', () => !running(child.pid as number));
    const next = started(await l.start({ launch: { command: process.execPath, args: ['-e', "console.log('again')"] }, env: env(), cancelled: () => false }));
    assert.equal((await collect(next)).out, 'again\n');
    assert.ok(l.pid !== undefined && l.pid !== first, 'a new launcher');
  });

  test('a child reported after its spawn was given up (launcher lost or timed out first) is killed, not orphaned', async () => {
    // The launcher's exit can be handled here before the 'spawned' it wrote just before dying:
    // the spawn is rejected (lost) first, and the pid arrives for nobody. That message is
    // delivered by hand: the race itself cannot be timed from a test.
    const l = launcher();
    const stray = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' });
    stray.unref();
    const pid = stray.pid as number;
    leftovers.add(pid);
    await until('the stray runs', () => running(pid));
    (l as unknown as { onMessage(message: unknown, handle: unknown): void }).onMessage({ t: 'spawned', id: 4242, pid }, undefined);
    await until('the unclaimed child gone', () => !running(pid));
  });

  test(`after ${MAX_LAUNCHER_LOSSES} lost launchers, children are spawned in process (never a hang)`, { skip: !linux }, async () => {
    const l = launcher();
    for (let i = 0; i < MAX_LAUNCHER_LOSSES; i++) {
      const child = started(await l.start({ launch: { command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] }, env: env(), cancelled: () => false }));
      leftovers.add(child.pid as number);
      const done = collect(child);
      process.kill(l.pid as number, 'SIGKILL');
      await done;
    }
    assert.equal(l.usable, false);
    const child = started(await l.start({ launch: { command: process.execPath, args: ['-e', "console.log('in process')"] }, env: env(), cancelled: () => false }));
    assert.equal(parentOf(child.pid as number), process.pid);
    assert.equal((await collect(child)).out, 'in process\n');
  });

  test('the in-process path (Windows, GATEHOUSE_SPAWN=in-process) forks here and reports the same things', { skip: !linux }, async () => {
    const l = launcher({ enabled: false });
    const child = started(await l.start({ launch: { command: process.execPath, args: ['-e', "console.log('here'); process.exit(3)"] }, env: env(), cancelled: () => false }));
    assert.equal(parentOf(child.pid as number), process.pid);
    assert.deepEqual(await collect(child), { out: 'here\n', err: '', code: 3, signal: null });
    const missing = await l.start({ launch: { command: 'gatehouse-no-such-command-x', args: [] }, env: env(), cancelled: () => false });
    assert.equal('spawnError' in missing && missing.spawnError.code, 'ENOENT');
    assert.equal(l.pid, undefined, 'no launcher was started');
  });

  test('a pool recovers when the launcher is SIGKILLed: the server is respawned and answers', { skip: !linux }, async () => {
    const pool: DownstreamPool = startPool([stdioServer('echo', 'echo.mjs')]);
    try {
      await until('echo ready', () => pool.connection('echo')?.state === 'ready', 20_000);
      const before = pool.snapshot()[0]?.pid as number;
      assert.equal(parentOf(before), childLauncher.pid);
      process.kill(childLauncher.pid as number, 'SIGKILL');
      await until('respawned', () => {
        const view = pool.snapshot()[0];
        return view?.state === 'ready' && view.pid !== null && view.pid !== before;
      }, 20_000);
      await until('the old child gone', () => !running(before));
      assert.equal(textOf(await pool.callTool('echo', 'echo', { text: 'back' })), 'back');
    } finally {
      await pool.stop();
      pool.dispose();
    }
  });
});
