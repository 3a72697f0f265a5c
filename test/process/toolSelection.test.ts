import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { stringify } from 'yaml';
import { fixtureServer, repoRoot, tempDir } from '../helpers/fixtures';
import { makeProject, type Project } from '../helpers/gatewayProject';
import { httpClient, listedWith, resultText, spawnCli, startHttpGateway, stdioClient, stopAllCli, type StdioSession } from '../helpers/gatewayProcess';
import { until } from '../helpers/poll';

const clients: Client[] = [];
const sessions: StdioSession[] = [];
after(async () => {
  await Promise.all([...clients, ...sessions.map((s) => s.client)].map((c) => c.close().catch(() => undefined)));
  await stopAllCli();
});

const names = (tools: Array<{ name: string }>) => tools.map((t) => t.name).sort();

interface Entry {
  name: string;
  args: string[];
  env?: Record<string, string>;
  tools?: { include?: string[]; exclude?: string[] };
}

const echo = (countFile: string, tools?: Entry['tools']): Entry => ({ name: 'echo', args: [fixtureServer('echo.mjs')], env: { COUNT_FILE: countFile }, ...(tools ? { tools } : {}) });
const everything = (tools?: Entry['tools']): Entry => ({
  name: 'everything',
  args: [path.join(repoRoot, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'],
  ...(tools ? { tools } : {}),
});

function writeRegistry(project: Project, servers: Entry[], profiles?: Record<string, unknown>): void {
  const registry = { version: '1', servers: servers.map((s) => ({ command: process.execPath, ...s })), ...(profiles ? { profiles } : {}) };
  writeFileSync(path.join(project.configDir, 'registry.yaml'), stringify(registry));
}

function project(servers: Entry[], profiles?: Record<string, unknown>): Project {
  const p = makeProject([]);
  writeRegistry(p, servers, profiles);
  return p;
}

function audit(configDir: string): Array<{ tool_name?: string; server_name?: string; status?: string; metadata?: Record<string, unknown> }> {
  try {
    return readFileSync(path.join(configDir, 'audit.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { tool_name?: string });
  } catch {
    return [];
  }
}

describe('tools.include / tools.exclude through gatehouse serve', () => {
  test('hidden tools are not listed, a call to one is refused and audited as unknown, reload applies without a respawn', async () => {
    const count = path.join(tempDir('gatehouse-count-'), 'count');
    const p = project([echo(count, { exclude: ['write', 'f*'] }), everything({ include: ['echo', 'get-s?m'] })]);
    const s = await stdioClient(p.folder);
    sessions.push(s);
    const tools = await listedWith(s.client, 'everything__get-sum');
    assert.deepEqual(
      names(tools),
      ['echo__big', 'echo__echo', 'echo__pid', 'echo__sleep', 'everything__echo', 'everything__get-sum', 'gatehouse__health'].sort(),
    );

    // A hidden tool is refused before the chain: the child never runs it (no COUNT_FILE line).
    const refused = await s.client.callTool({ name: 'echo__write', arguments: { id: 'hidden' } });
    assert.equal(refused.isError, true);
    assert.match(resultText(refused), /Unknown tool 'echo__write'/);
    const hiddenEverything = await s.client.callTool({ name: 'everything__get-env', arguments: {} });
    assert.match(resultText(hiddenEverything), /Unknown tool 'everything__get-env'/);
    assert.equal(existsSync(count), false);
    const record = await until('the refusal audited', () => audit(p.configDir).find((r) => r.tool_name === 'write' && r.server_name === 'echo'));
    assert.equal(record.status, 'denied');
    assert.equal(record.metadata?.reason_code, 'unknown_tool');

    // Hot reload: the selection changes, the child keeps running, clients hear list_changed.
    const pid = resultText(await s.client.callTool({ name: 'echo__pid', arguments: {} }));
    let changes = 0;
    s.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changes++;
    });
    writeRegistry(p, [echo(count, { exclude: ['echo', 'sleep'] }), everything({ include: ['echo', 'get-s?m'] })]);
    await until('list_changed after the edit', () => changes >= 1, 20_000);
    const after = names((await s.client.listTools()).tools).filter((n) => n.startsWith('echo__'));
    assert.deepEqual(after, ['echo__big', 'echo__fail', 'echo__pid', 'echo__write']);
    assert.equal(resultText(await s.client.callTool({ name: 'echo__pid', arguments: {} })), pid, 'the child was not respawned');
    assert.equal(resultText(await s.client.callTool({ name: 'echo__write', arguments: { id: 'shown' } })), 'wrote shown');
    assert.match(resultText(await s.client.callTool({ name: 'echo__echo', arguments: { text: 'x' } })), /Unknown tool/);

    // An invalid glob: a positioned error, and the last good selection stays.
    writeFileSync(
      path.join(p.configDir, 'registry.yaml'),
      readFileSync(path.join(p.configDir, 'registry.yaml'), 'utf8').replace('- sleep', '- "[sleep"'),
    );
    await until('the glob error reported', () => /registry\.yaml:\d+:\d+: .*'\['/.test(s.stderr()), 20_000);
    assert.deepEqual(names((await s.client.listTools()).tools).filter((n) => n.startsWith('echo__')), after);
  });
});

describe('client profiles', () => {
  const profiles = { review: { servers: ['echo'], tools: ['echo__echo', 'echo__p*'] }, all: { tools: ['*__echo'] } };

  test('serve --profile, /mcp/<profile> and bridge --profile each serve the subset; the default endpoint serves everything', async () => {
    const count = path.join(tempDir('gatehouse-count-'), 'count');
    const p = project([echo(count), everything()], profiles);

    const stdio = await stdioClient(p.folder, {}, ['serve', '--profile', 'review']);
    sessions.push(stdio);
    const listed = await listedWith(stdio.client, 'echo__echo');
    assert.deepEqual(names(listed), ['echo__echo', 'echo__pid', 'gatehouse__health']);
    assert.match(resultText(await stdio.client.callTool({ name: 'echo__write', arguments: { id: 'x' } })), /Unknown tool 'echo__write'/);
    assert.match(resultText(await stdio.client.callTool({ name: 'everything__echo', arguments: { message: 'x' } })), /Unknown server 'everything'.*Servers: echo\./);
    assert.equal(existsSync(count), false);
    await until('profile refusals audited', () => audit(p.configDir).filter((r) => r.metadata?.reason_code === 'unknown_tool' || r.metadata?.reason_code === 'unknown_server').length >= 2);
    await stdio.client.close();

    const gw = await startHttpGateway(p.folder);
    const base = await httpClient(gw.info);
    clients.push(base);
    const all = await listedWith(base, 'everything__get-sum');
    assert.ok(names(all).includes('echo__write'));
    const review = await httpClient({ url: `${gw.info.url}/review`, token: gw.info.token });
    clients.push(review);
    assert.deepEqual(names(await listedWith(review, 'echo__echo')), ['echo__echo', 'echo__pid', 'gatehouse__health']);
    assert.equal(resultText(await review.callTool({ name: 'echo__echo', arguments: { text: 'via profile' } })), 'via profile');
    const echoes = await httpClient({ url: `${gw.info.url}/all`, token: gw.info.token });
    clients.push(echoes);
    assert.deepEqual(names(await listedWith(echoes, 'everything__echo')), ['echo__echo', 'everything__echo', 'gatehouse__health']);
    // The same token guards every endpoint, and an unknown profile is no endpoint.
    await assert.rejects(httpClient({ url: `${gw.info.url}/review`, token: 'wrong' }));
    await assert.rejects(httpClient({ url: `${gw.info.url}/nope`, token: gw.info.token }), /No profile 'nope'/);

    // A session belongs to its endpoint: its id does not open the default (wider) one.
    const headers = { Authorization: `Bearer ${gw.info.token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
    const init = await fetch(`${gw.info.url}/review`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
    });
    const sessionId = init.headers.get('mcp-session-id');
    assert.ok(sessionId);
    const widened = await fetch(gw.info.url, {
      method: 'POST',
      headers: { ...headers, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }),
    });
    assert.equal(widened.status, 404);

    const bridged = await stdioClient(p.folder, {}, ['bridge', '--profile', 'review']);
    sessions.push(bridged);
    assert.deepEqual(names(await listedWith(bridged.client, 'echo__pid')), ['echo__echo', 'echo__pid', 'gatehouse__health']);
    assert.match(resultText(await bridged.client.callTool({ name: 'echo__sleep', arguments: { ms: 1 } })), /Unknown tool/);

    // Editing the profile re-lists its sessions (list_changed), without restarting anything.
    let changes = 0;
    review.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changes++;
    });
    writeRegistry(p, [echo(count), everything()], { ...profiles, review: { servers: ['echo'], tools: ['echo__sleep'] } });
    await until('list_changed for the profile', () => changes >= 1, 20_000);
    assert.deepEqual(names((await review.listTools()).tools), ['echo__sleep', 'gatehouse__health']);
  });

  test('serve --profile with an unknown profile exits with an error naming the profiles', async () => {
    const p = project([echo(path.join(tempDir('gatehouse-count-'), 'count'))], profiles);
    const cli = spawnCli(['serve', '--profile', 'nope'], p.folder, {}, 'pipe');
    const exit = await cli.exited;
    assert.equal(exit.code, 1);
    assert.match(cli.stderr(), /no profile 'nope'.*profiles: review, all/);
  });

  test('a profile naming an unknown server is a positioned config error', async () => {
    const p = project([echo(path.join(tempDir('gatehouse-count-'), 'count'))], { review: { servers: ['echo', 'ghost'] } });
    const cli = spawnCli(['serve'], p.folder, {}, 'pipe');
    await until('the error logged', () => /registry\.yaml:\d+:\d+: profile 'review' names server 'ghost'/.test(cli.stderr()), 20_000);
    cli.proc.stdin?.end();
    await cli.exited;
  });
});
