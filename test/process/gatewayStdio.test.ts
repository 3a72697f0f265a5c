import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { GATEWAY_STOPPING_CODE } from '../../extension/gateway/callGate';
import { tempDir } from '../helpers/fixtures';
import { makeProject } from '../helpers/gatewayProject';
import { listedWith, readState, resultText, spawnCli, stdioClient, stopAllCli, type StdioSession } from '../helpers/gatewayProcess';
import { LineRpc } from '../helpers/lineRpc';
import { alive, until } from '../helpers/poll';
import { posixSignals, procfs } from '../helpers/platformSkip';

const sessions: StdioSession[] = [];
after(async () => {
  await Promise.all(sessions.map((s) => s.client.close().catch(() => undefined)));
  await stopAllCli();
});

async function open(folder: string, env: NodeJS.ProcessEnv = {}): Promise<StdioSession> {
  const s = await stdioClient(folder, env);
  sessions.push(s);
  return s;
}

const names = (tools: Array<{ name: string }>) => tools.map((t) => t.name);

describe('gatehouse serve (stdio) with the SDK client', () => {
  test('lists health first and the downstream tools; calls route; isError passes through unchanged', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const s = await open(project.folder);
    const tools = await listedWith(s.client, 'echo__echo');
    assert.equal(tools[0]?.name, 'gatehouse__health');
    assert.equal(tools.find((t) => t.name === 'echo__echo')?.annotations?.readOnlyHint, true, 'annotations survive the gateway');

    const echoed = await s.client.callTool({ name: 'echo__echo', arguments: { text: 'through the gateway' } });
    assert.equal(echoed.isError, undefined);
    assert.equal(resultText(echoed), 'through the gateway');

    const failed = await s.client.callTool({ name: 'echo__fail', arguments: {} });
    assert.deepEqual(failed, { isError: true, content: [{ type: 'text', text: 'failed on purpose' }] });
  });

  test('unknown servers, unprefixed names and the reserved namespace are refused with the valid servers named', async () => {
    const project = makeProject([
      { name: 'echo', fixture: 'echo.mjs' },
      { name: 'other', fixture: 'echo.mjs' },
    ]);
    const s = await open(project.folder);
    const unknown = await s.client.callTool({ name: 'ghost__echo', arguments: { text: 'x' } });
    assert.equal(unknown.isError, true);
    assert.match(resultText(unknown), /Unknown server 'ghost'/);
    assert.match(resultText(unknown), /Servers: echo, other/);

    const bare = await s.client.callTool({ name: 'echo', arguments: { text: 'x' } });
    assert.equal(bare.isError, true);
    assert.match(resultText(bare), /missing the server prefix/);
    assert.match(resultText(bare), /Servers: echo, other/);

    const reserved = await s.client.callTool({ name: 'gatehouse__shutdown', arguments: {} });
    assert.equal(reserved.isError, true);
    assert.match(resultText(reserved), /reserved namespace.*gatehouse__health/);
  });

  test('the first tools/list waits for a server that is still starting', async () => {
    const project = makeProject([
      { name: 'echo', fixture: 'echo.mjs' },
      { name: 'slow', fixture: 'slowStart.mjs', env: { START_DELAY_MS: '1000' } },
    ]);
    const s = await open(project.folder);
    // No list_changed handling here on purpose: a client that ignores it must still see everything.
    const { tools } = await s.client.listTools();
    assert.ok(names(tools).includes('slow__echo'), `first list: ${names(tools).join(',')}`);
    assert.ok(names(tools).includes('echo__echo'));
    assert.equal(resultText(await s.client.callTool({ name: 'slow__echo', arguments: { text: 'late' } })), 'late');
  });

  test('the first tools/list does not wait forever for a server that never answers', { skip: procfs }, async () => {
    const project = makeProject([
      { name: 'echo', fixture: 'echo.mjs' },
      { name: 'hang', fixture: 'hang.mjs', timeouts: { connect_ms: 60_000 } },
    ]);
    const s = await open(project.folder);
    try {
      const began = Date.now();
      const { tools } = await s.client.listTools();
      const waited = Date.now() - began;
      assert.ok(!names(tools).some((n) => n.startsWith('hang__')));
      // The bound is 5 s; only a generous sanity limit here.
      assert.ok(waited < 15_000, `first list took ${waited} ms`);
      await listedWith(s.client, 'echo__echo');
    } finally {
      // Belt and braces: the shutdown test below proves the pool kills it; never leak one here.
      for (const pid of childrenRunning(s.pid, 'hang.mjs')) process.kill(pid, 'SIGKILL');
    }
  });

  test('tools/list_changed is sent when a child dies (its tools vanish) and again when it is back', async () => {
    // The respawned echo waits while the hold file exists: the "vanished" window lasts until the
    // test has looked (a 2 s backoff stood in for that, and a machine stalled longer saw echo back).
    const hold = path.join(tempDir(), 'hold');
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs', env: { HOLD_FILE: hold } }], { autonomy_level: 'L1' });
    const s = await open(project.folder);
    let changes = 0;
    s.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changes++;
    });
    await listedWith(s.client, 'echo__echo');
    const pid = Number(resultText(await s.client.callTool({ name: 'echo__pid', arguments: {} })));
    // The startup itself (echo becoming ready) already sent one; count from here.
    changes = 0;
    writeFileSync(hold, '');
    process.kill(pid, 'SIGKILL');
    await until('list_changed after the crash', () => changes >= 1);
    const during = names((await s.client.listTools()).tools);
    assert.deepEqual(during, ['gatehouse__health'], 'a dead server contributes no tools');
    rmSync(hold);
    await until('list_changed after the respawn', () => changes >= 2, 15_000);
    await until('tools back', async () => names((await s.client.listTools()).tools).includes('echo__echo'));
    const again = Number(resultText(await s.client.callTool({ name: 'echo__pid', arguments: {} })));
    assert.notEqual(again, pid);
  });

  test('health answers with every downstream down; error text is withheld by default', async () => {
    const project = makeProject([
      { name: 'missing', command: '/nonexistent/gatehouse-no-such-binary' },
      { name: 'broken', fixture: 'crashOnStart.mjs' },
    ]);
    const s = await open(project.folder);
    const { tools } = await s.client.listTools();
    assert.deepEqual(names(tools), ['gatehouse__health']);
    const report = await until('both servers failed at least once', async () => {
      const r = await s.client.callTool({ name: 'gatehouse__health', arguments: {} });
      assert.notEqual(r.isError, true);
      const parsed = JSON.parse(resultText(r)) as { downstreams: Array<{ name: string; state: string; restarts: number; last_error: unknown; reason: unknown }> };
      return parsed.downstreams.every((d) => d.state !== 'starting' && d.state !== 'ready' && d.restarts >= 1) ? parsed : undefined;
    });
    assert.deepEqual(report.downstreams.map((d) => d.name), ['missing', 'broken']);
    for (const d of report.downstreams) {
      assert.equal(d.last_error, null, `${d.name}: last_error withheld`);
      assert.equal(d.reason, null, `${d.name}: reason withheld`);
    }
    const call = await s.client.callTool({ name: 'missing__anything', arguments: {} });
    assert.equal(call.isError, true);
  });

  test('health shows (redacted) error text with gateway.health.expose_diagnostics', async () => {
    const project = makeProject([{ name: 'missing', command: '/nonexistent/gatehouse-no-such-binary' }], {
      autonomy_level: 'L1',
      gateway: { health: { expose_diagnostics: true } },
    });
    const s = await open(project.folder);
    await until('the spawn failure is in health', async () => {
      const r = await s.client.callTool({ name: 'gatehouse__health', arguments: {} });
      const parsed = JSON.parse(resultText(r)) as { downstreams: Array<{ last_error: string | null }> };
      return /command not found: '\/nonexistent\/gatehouse-no-such-binary'/.test(parsed.downstreams[0]?.last_error ?? '');
    });
  });
});

describe('gatehouse serve: the stdout channel and shutdown', () => {
  test('a downstream that prints to stdout still yields a clean JSON-RPC stream', async () => {
    const project = makeProject([
      { name: 'noisy', fixture: 'noisyStdout.mjs' },
      { name: 'echo', fixture: 'echo.mjs' },
    ]);
    const cli = spawnCli(['serve'], project.folder, {}, 'pipe');
    const rpc = new LineRpc(cli.proc);
    await rpc.initialize();
    await until('noisy listed', async () => names(((await rpc.request('tools/list')) as { tools: Array<{ name: string }> }).tools).includes('noisy__echo'), 30_000, 100);
    for (let i = 0; i < 20; i++) {
      const r = (await rpc.request('tools/call', { name: 'noisy__echo', arguments: { text: `n${i}` } })) as { content: Array<{ text: string }> };
      assert.equal(r.content[0]?.text, `n${i}`);
    }
    await rpc.request('tools/call', { name: 'gatehouse__health', arguments: {} });
    rpc.end();
    const exit = await cli.exited;
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(rpc.lines.length >= 23);
    for (const line of rpc.lines) {
      const parsed = JSON.parse(line) as { jsonrpc?: string };
      assert.equal(parsed.jsonrpc, '2.0', `not JSON-RPC on stdout: ${line.slice(0, 200)}`);
    }
    assert.doesNotMatch(cli.stdout(), /noisy: /);
    // Human lines went to stderr instead.
    assert.match(cli.stderr(), /serving 2 downstream servers on stdio/);
  });

  for (const how of ['stdin EOF', 'SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    test(`exits 0 with every child (and grandchild) stopped on ${how}`, { skip: how !== 'stdin EOF' && posixSignals }, async () => {
      const pidFile = path.join(tempDir(), 'grandchild.pid');
      const project = makeProject([
        { name: 'echo', fixture: 'echo.mjs' },
        { name: 'wrapped', fixture: 'spawnsGrandchild.mjs', env: { PID_FILE: pidFile } },
      ]);
      const cli = spawnCli(['serve'], project.folder, {}, 'pipe');
      const rpc = new LineRpc(cli.proc);
      await rpc.initialize();
      const pidOf = async (tool: string) =>
        Number(((await rpc.request('tools/call', { name: tool, arguments: {} })) as { content: Array<{ text: string }> }).content[0]?.text);
      const echoPid = await pidOf('echo__pid');
      const grandchild = await pidOf('wrapped__pid');
      assert.equal(Number(readFileSync(pidFile, 'utf8')), grandchild);
      const wrapper = await until('wrapper pid in the state file', () => readState(project.configDir)?.downstreams?.find((d) => d.name === 'wrapped')?.pid);
      assert.ok(alive(echoPid) && alive(grandchild) && alive(wrapper));

      if (how === 'stdin EOF') rpc.end();
      else process.kill(cli.pid, how);
      const exit = await cli.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, cli.stderr());
      await until('every child gone', () => !alive(echoPid) && !alive(wrapper) && !alive(grandchild), 5000);
      assert.equal(existsSync(path.join(project.configDir, 'serve.state.json')), false, 'state file removed on a clean stop');
      assert.equal(existsSync(path.join(project.configDir, 'serve.pid')), false, 'pid file removed on a clean stop');
      for (const line of rpc.lines) JSON.parse(line);
    });
  }

  test('SIGTERM with a call in flight answers it with a JSON-RPC error saying the gateway is stopping', { skip: posixSignals }, async () => {
    const countFile = path.join(tempDir(), 'count');
    writeFileSync(countFile, '');
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs', env: { COUNT_FILE: countFile } }]);
    const cli = spawnCli(['serve'], project.folder, {}, 'pipe');
    const rpc = new LineRpc(cli.proc);
    await rpc.initialize();
    const call = rpc.request('tools/call', { name: 'echo__write', arguments: { id: 'slow', delay_ms: 60_000 } });
    await until('call running in the child', () => readFileSync(countFile, 'utf8').includes('slow'));
    process.kill(cli.pid, 'SIGTERM');
    const error = await call.then(
      () => assert.fail('the call cannot finish'),
      (err: unknown) => err as { code?: number; message?: string },
    );
    assert.equal(error.code, GATEWAY_STOPPING_CODE, `${String(error.message)}\n${cli.stderr()}`);
    assert.match(String(error.message), /Gatehouse is stopping/);
    assert.deepEqual(await cli.exited, { code: 0, signal: null });
  });

  test(
    'a server still starting is killed at shutdown within the stop budget (no orphan)',
    async () => {
      const project = makeProject([
        { name: 'echo', fixture: 'echo.mjs' },
        { name: 'hang', fixture: 'hang.mjs', timeouts: { connect_ms: 30_000 } },
      ]);
      const cli = spawnCli(['serve'], project.folder, {}, 'pipe');
      const rpc = new LineRpc(cli.proc);
      await rpc.initialize();
      const hang = await until('the hanging child', () => childrenRunning(cli.pid, 'hang.mjs')[0]);
      try {
        rpc.end();
        // DESIGN.md §1: 1 s drain, then stdin close → 1.5 s → SIGTERM → 1.5 s → SIGKILL.
        await until('gateway exited', () => cli.proc.exitCode !== null, 8000);
        await until('hanging child gone', () => !alive(hang), 2000);
      } finally {
        cli.proc.kill('SIGKILL');
        if (alive(hang)) process.kill(hang, 'SIGKILL');
      }
    },
  );

  test('a broken registry still serves health on stdio and says why on stderr', async () => {
    const project = makeProject([]);
    writeFileSync(path.join(project.configDir, 'registry.yaml'), 'version: "1"\nservers:\n  - name: Bad_Name\n    command: x\n');
    const s = await open(project.folder);
    const { tools } = await s.client.listTools();
    assert.deepEqual(names(tools), ['gatehouse__health']);
    await until('the problem on stderr', () => /registry\.yaml:\d+:\d+: .*Bad_Name/.test(s.stderr()));
  });
});

/**
 * Pids of `parent`'s descendants whose command line mentions `needle` (Linux /proc). Descendants,
 * not children: on Linux and macOS the pool's children are forked by the launcher process
 * (pool/childLauncher.ts), a child of the gateway.
 */
function childrenRunning(parent: number, needle: string): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // the process ended while we looked
    }
  }
  const descends = (pid: number): boolean => {
    for (let p = parents.get(pid), hops = 0; p !== undefined && p > 1 && hops < 64; p = parents.get(p), hops++) if (p === parent) return true;
    return false;
  };
  const out: number[] = [];
  for (const pid of parents.keys()) {
    try {
      if (descends(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle)) out.push(pid);
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}
