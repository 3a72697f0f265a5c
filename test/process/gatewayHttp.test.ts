import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { GATEWAY_STOPPING_CODE } from '../../extension/gateway/callGate';
import { tempDir } from '../helpers/fixtures';
import { makeProject } from '../helpers/gatewayProject';
import { httpClient, listedWith, readState, resultText, startHttpGateway, stopAllCli, type HttpGateway } from '../helpers/gatewayProcess';
import { alive, until } from '../helpers/poll';
import { posixModes, posixSignals } from '../helpers/platformSkip';

const clients: Client[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await stopAllCli();
});

async function connect(gw: HttpGateway, name?: string): Promise<Client> {
  const c = await httpClient(gw.info, name);
  clients.push(c);
  return c;
}

const names = (tools: Array<{ name: string }>) => tools.map((t) => t.name);

describe('gatehouse serve --http', () => {
  test('writes a 0600 discovery file, git-ignores it, prints the URL and never the token', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const gw = await startHttpGateway(project.folder);
    const file = path.join(project.configDir, 'gateway.json');
    if (!posixModes) assert.equal(statSync(file).mode & 0o777, 0o600);
    const info = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(info).sort(), ['pid', 'token', 'url']);
    assert.match(String(info.url), /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    assert.equal(info.pid, gw.pid);
    // 256 random bits, base64url.
    assert.match(String(info.token), /^[A-Za-z0-9_-]{43}$/);
    const gitignore = readFileSync(path.join(project.configDir, '.gitignore'), 'utf8').split('\n');
    for (const runtime of ['gateway.json', 'serve.state.json', 'serve.pid', 'audit.jsonl']) assert.ok(gitignore.includes(runtime), runtime);

    await until('URL on stderr', () => gw.stderr().includes(String(info.url)));
    const c = await connect(gw);
    await c.callTool({ name: 'echo__echo', arguments: { text: 'x' } });
    await gw.stop('SIGTERM');
    assert.ok(!gw.stderr().includes(String(info.token)), 'token on stderr');
    assert.ok(!gw.stdout().includes(String(info.token)), 'token on stdout');
  });

  test('SDK client over HTTP: list, call, isError unchanged, refusals naming the servers', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const gw = await startHttpGateway(project.folder);
    const c = await connect(gw);
    const tools = await listedWith(c, 'echo__echo');
    assert.equal(tools[0]?.name, 'gatehouse__health');
    assert.equal(resultText(await c.callTool({ name: 'echo__echo', arguments: { text: 'over http' } })), 'over http');
    assert.deepEqual(await c.callTool({ name: 'echo__fail', arguments: {} }), {
      isError: true,
      content: [{ type: 'text', text: 'failed on purpose' }],
    });
    const unknown = await c.callTool({ name: 'nope__echo', arguments: {} });
    assert.equal(unknown.isError, true);
    assert.match(resultText(unknown), /Unknown server 'nope'.*Servers: echo/);
    const health = JSON.parse(resultText(await c.callTool({ name: 'gatehouse__health', arguments: {} }))) as { downstreams: Array<{ name: string; state: string }> };
    assert.deepEqual(health.downstreams.map((d) => [d.name, d.state]), [['echo', 'ready']]);
  });

  test('tools/list_changed reaches HTTP sessions when a child dies and comes back', async () => {
    // The respawned echo waits while the hold file exists, so the list is read while echo is
    // provably down (a 2 s backoff stood in for that: a machine stalled longer saw echo back).
    const hold = path.join(tempDir(), 'hold');
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs', env: { HOLD_FILE: hold } }], { autonomy_level: 'L1' });
    const gw = await startHttpGateway(project.folder);
    // Connected once echo is ready, the session gets no list_changed for echo's startup: on its
    // own event stream that one could arrive late and be counted as the crash's.
    await until('echo ready', () => readState(gw.configDir)?.downstreams?.find((d) => d.name === 'echo')?.state === 'ready', 20_000);
    const c = await connect(gw);
    let changes = 0;
    c.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changes++;
    });
    await listedWith(c, 'echo__echo');
    const pid = Number(resultText(await c.callTool({ name: 'echo__pid', arguments: {} })));
    writeFileSync(hold, '');
    process.kill(pid, 'SIGKILL');
    await until('list_changed after the crash', () => changes >= 1);
    assert.deepEqual(names((await c.listTools()).tools), ['gatehouse__health']);
    rmSync(hold);
    await until('list_changed after the respawn', () => changes >= 2, 15_000);
    assert.ok(names((await c.listTools()).tools).includes('echo__echo'));
  });

  test('many concurrent client sessions, each with its own answers', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const gw = await startHttpGateway(project.folder);
    await listedWith(await connect(gw), 'echo__echo');
    const n = 24;
    const sessions = await Promise.all(Array.from({ length: n }, (_, i) => connect(gw, `client-${i}`)));
    const answers = await Promise.all(
      sessions.map(async (c, i) => {
        const { tools } = await c.listTools();
        assert.ok(names(tools).includes('echo__echo'));
        const results = await Promise.all(
          Array.from({ length: 4 }, (_, j) => c.callTool({ name: 'echo__echo', arguments: { text: `s${i}-c${j}` } })),
        );
        return results.map(resultText);
      }),
    );
    answers.forEach((a, i) => assert.deepEqual(a, [0, 1, 2, 3].map((j) => `s${i}-c${j}`)));
    // Closing some sessions does not disturb the others.
    await Promise.all(sessions.slice(0, n / 2).map((c) => c.close()));
    assert.equal(resultText(await sessions[n - 1]!.callTool({ name: 'echo__echo', arguments: { text: 'still here' } })), 'still here');
  });

  test('SIGTERM: exits 0, children stopped, discovery and state files removed', { skip: posixSignals }, async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const gw = await startHttpGateway(project.folder);
    const c = await connect(gw);
    const pid = Number(resultText(await c.callTool({ name: 'echo__pid', arguments: {} })));
    assert.ok(alive(pid));
    const exit = await gw.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, gw.stderr());
    await until('child gone', () => !alive(pid), 5000);
    assert.equal(existsSync(path.join(project.configDir, 'gateway.json')), false);
    assert.equal(existsSync(path.join(project.configDir, 'serve.state.json')), false);
    assert.ok(existsSync(path.join(project.configDir, '.gitignore')), 'the .gitignore stays');
  });

  test('SIGTERM lets a call in flight finish (up to 1 s) before closing', { skip: posixSignals }, async () => {
    const countFile = path.join(tempDir(), 'count');
    writeFileSync(countFile, '');
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs', env: { COUNT_FILE: countFile } }]);
    const gw = await startHttpGateway(project.folder);
    const c = await connect(gw);
    await listedWith(c, 'echo__write');
    // `write` records itself at once, then answers after delay_ms: the call is provably running.
    const call = c.callTool({ name: 'echo__write', arguments: { id: 'draining', delay_ms: 500 } });
    await until('call running in the child', () => readFileSync(countFile, 'utf8').includes('draining'));
    process.kill(gw.pid, 'SIGTERM');
    assert.equal(resultText(await call), 'wrote draining');
    assert.deepEqual(await gw.exited, { code: 0, signal: null });
  });

  test('SIGTERM with a longer call in flight: the client gets a JSON-RPC error saying the gateway is stopping, not a reset', { skip: posixSignals }, async () => {
    const countFile = path.join(tempDir(), 'count');
    writeFileSync(countFile, '');
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs', env: { COUNT_FILE: countFile } }]);
    const gw = await startHttpGateway(project.folder);
    const c = await connect(gw);
    await listedWith(c, 'echo__write');
    const call = c.callTool({ name: 'echo__write', arguments: { id: 'slow', delay_ms: 60_000 } }, undefined, { timeout: 120_000 });
    await until('call running in the child', () => readFileSync(countFile, 'utf8').includes('slow'));
    process.kill(gw.pid, 'SIGTERM');
    const error = await call.then(
      () => assert.fail('the call cannot finish'),
      (err: unknown) => err as { code?: number; message?: string },
    );
    assert.equal(error.code, GATEWAY_STOPPING_CODE, String(error.message));
    assert.match(String(error.message), /Gatehouse is stopping/);
    assert.deepEqual(await gw.exited, { code: 0, signal: null });
  });

  test('--port pins the port', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const probe = await startHttpGateway(project.folder);
    const free = new URL(probe.info.url).port;
    await probe.stop();
    const gw = await startHttpGateway(project.folder, {}, ['--port', free]);
    assert.equal(new URL(gw.info.url).port, free);
  });
});
