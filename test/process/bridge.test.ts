import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { makeProject } from '../helpers/gatewayProject';
import { listedWith, readState, resultText, spawnCli, startHttpGateway, stdioClient, stopAllCli, type StdioSession } from '../helpers/gatewayProcess';
import { alive, until } from '../helpers/poll';

const sessions: StdioSession[] = [];
after(async () => {
  await Promise.all(sessions.map((s) => s.client.close().catch(() => undefined)));
  await stopAllCli();
});

const names = (tools: Array<{ name: string }>) => tools.map((t) => t.name);

describe('gatehouse bridge', () => {
  test('an SDK client over the bridge reaches the running HTTP gateway', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }], {
      autonomy_level: 'L1',
      gateway: { backoff: { initial_ms: 2000, jitter: 0 } },
    });
    const gw = await startHttpGateway(project.folder);
    const s = await stdioClient(project.folder, {}, ['bridge']);
    sessions.push(s);
    const tools = await listedWith(s.client, 'echo__echo');
    assert.equal(tools[0]?.name, 'gatehouse__health');
    assert.equal(resultText(await s.client.callTool({ name: 'echo__echo', arguments: { text: 'bridged' } })), 'bridged');
    assert.deepEqual(await s.client.callTool({ name: 'echo__fail', arguments: {} }), {
      isError: true,
      content: [{ type: 'text', text: 'failed on purpose' }],
    });
    assert.match(resultText(await s.client.callTool({ name: 'x__y', arguments: {} })), /Unknown server 'x'.*Servers: echo/);

    // list_changed is relayed through the bridge.
    let changes = 0;
    s.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changes++;
    });
    const pid = Number(resultText(await s.client.callTool({ name: 'echo__pid', arguments: {} })));
    process.kill(pid, 'SIGKILL');
    await until('list_changed relayed', () => changes >= 1);
    await until('tools back', async () => names((await s.client.listTools()).tools).includes('echo__echo'), 15_000);

    // The token never shows up in what the bridge prints.
    assert.ok(!s.stderr().includes(gw.info.token));
  });

  test('the bridge follows the gateway: clear errors while none runs, reconnects to a new one', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const first = await startHttpGateway(project.folder);
    const s = await stdioClient(project.folder, {}, ['bridge']);
    sessions.push(s);
    assert.equal(resultText(await s.client.callTool({ name: 'echo__echo', arguments: { text: 'one' } })), 'one');
    let changes = 0;
    s.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changes++;
    });

    // A call in flight when the gateway is killed fails promptly instead of hanging.
    const pending = s.client.callTool({ name: 'echo__sleep', arguments: { ms: 8000 } });
    await until('call in flight', () => (readState(first.configDir)?.downstreams?.[0] as { in_flight?: number } | undefined)?.in_flight === 1);
    const began = Date.now();
    await first.stop('SIGKILL');
    const cut = await pending;
    assert.equal(cut.isError, true);
    assert.match(resultText(cut), /went away during this call.*not re-sent/);
    assert.ok(Date.now() - began < 7000, `the cut call took ${Date.now() - began} ms to fail`);

    // No gateway now: a clear answer, not a hang.
    const none = await s.client.callTool({ name: 'echo__echo', arguments: { text: 'nobody home' } });
    assert.equal(none.isError, true);
    assert.match(resultText(none), /no running Gatehouse gateway found/);

    // A new gateway (new port, new token): the bridge reconnects and says the tools may have changed.
    const second = await startHttpGateway(project.folder);
    assert.notEqual(second.info.token, first.info.token);
    assert.equal(resultText(await s.client.callTool({ name: 'echo__echo', arguments: { text: 'two' } })), 'two');
    await until('list_changed after reconnecting', () => changes >= 1);
    assert.ok(alive(s.pid), 'the bridge stayed up throughout');
    await s.client.close();
    await until('bridge exited on stdin EOF', () => !alive(s.pid), 10_000);
  });

  test('no gateway running: a clear error and exit code 2', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const cli = spawnCli(['bridge'], project.folder, {}, 'pipe');
    const exit = await cli.exited;
    assert.deepEqual(exit, { code: 2, signal: null });
    assert.match(cli.stderr(), /no running Gatehouse gateway found/);
    assert.match(cli.stderr(), /gatehouse serve --http/);
    assert.equal(cli.stdout(), '', 'nothing on the MCP channel');
  });

  test('a discovery file left by a dead gateway: exit code 2, not a hang', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const dead = spawnCli(['help'], project.folder);
    await dead.exited;
    writeFileSync(
      path.join(project.configDir, 'gateway.json'),
      JSON.stringify({ url: 'http://127.0.0.1:9/mcp', token: 'x'.repeat(43), pid: dead.pid }),
      { mode: 0o600 },
    );
    const cli = spawnCli(['bridge'], project.folder, {}, 'pipe');
    assert.deepEqual(await cli.exited, { code: 2, signal: null });
    assert.match(cli.stderr(), /no running Gatehouse gateway found/);
  });

  test('a live pid but nothing listening: exit code 2 with the URL it tried', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    writeFileSync(
      path.join(project.configDir, 'gateway.json'),
      JSON.stringify({ url: 'http://127.0.0.1:9/mcp', token: 'x'.repeat(43), pid: process.pid }),
      { mode: 0o600 },
    );
    const cli = spawnCli(['bridge'], project.folder, {}, 'pipe');
    assert.deepEqual(await cli.exited, { code: 2, signal: null });
    assert.match(cli.stderr(), /could not reach the gateway at http:\/\/127\.0\.0\.1:9\/mcp/);
    assert.ok(!cli.stderr().includes('x'.repeat(43)), 'the token is not printed');
  });
});

