import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect as netConnect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { tempDir } from '../helpers/fixtures';
import { makeProject } from '../helpers/gatewayProject';
import { httpClient, listedWith, readState, resultText, startHttpGateway, stopAllCli, type HttpGateway } from '../helpers/gatewayProcess';
import { until } from '../helpers/poll';

interface Answer {
  status: number;
  body: string;
}

/** One raw HTTP request, so every header (Host included) is exactly what the test says. */
function send(url: string, headers: Record<string, string>, body: string, method = 'POST'): Promise<Answer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname, method, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    // A server that answers early (413) may reset the connection while we still write.
    req.on('error', (err) => reject(err));
    req.end(body);
  });
}

const writeCall = (id: string, pad = '') =>
  JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo__write', arguments: { id, pad } } });

describe('HTTP defences: refused requests never reach a downstream', () => {
  let gw: HttpGateway;
  let client: Client;
  let sessionId: string;
  let countFile: string;
  const executed = () => readFileSync(countFile, 'utf8').split('\n').filter(Boolean);

  before(async () => {
    countFile = path.join(tempDir(), 'count');
    writeFileSync(countFile, '');
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs', env: { COUNT_FILE: countFile } }]);
    gw = await startHttpGateway(project.folder);
    // A real session, so every refused request below would otherwise be a valid call.
    client = await httpClient(gw.info);
    await listedWith(client, 'echo__write');
    sessionId = (client.transport as StreamableHTTPClientTransport).sessionId as string;
    assert.ok(sessionId);
  });
  after(async () => {
    await client?.close().catch(() => undefined);
    await stopAllCli();
  });

  const host = () => new URL(gw.info.url).host;
  const valid = () => ({ authorization: `Bearer ${gw.info.token}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' });

  test('no token: 401', async () => {
    const { authorization: _a, ...headers } = valid();
    const r = await send(gw.info.url, headers, writeCall('no-token'));
    assert.equal(r.status, 401, r.body);
  });

  test('wrong token (same length, last character changed): 401', async () => {
    const t = gw.info.token;
    const wrong = `${t.slice(0, -1)}${t.endsWith('A') ? 'B' : 'A'}`;
    const r = await send(gw.info.url, { ...valid(), authorization: `Bearer ${wrong}` }, writeCall('wrong-token'));
    assert.equal(r.status, 401, r.body);
    const other = await send(gw.info.url, { ...valid(), authorization: 'Bearer x' }, writeCall('short-token'));
    assert.equal(other.status, 401, other.body);
    const basic = await send(gw.info.url, { ...valid(), authorization: `Basic ${gw.info.token}` }, writeCall('basic'));
    assert.equal(basic.status, 401, basic.body);
  });

  test('non-loopback Host (DNS rebinding): 403, even with the right token', async () => {
    const port = new URL(gw.info.url).port;
    for (const h of [`evil.example:${port}`, `evil.example`, `127.0.0.1.evil.example:${port}`]) {
      const r = await send(gw.info.url, { ...valid(), host: h }, writeCall(`host-${h}`));
      assert.equal(r.status, 403, `${h}: ${r.body}`);
    }
  });

  test('a browser Origin: 403, even with the right token', async () => {
    for (const origin of ['http://evil.example', 'null', `http://${host()}`]) {
      const r = await send(gw.info.url, { ...valid(), origin }, writeCall(`origin-${origin}`));
      assert.equal(r.status, 403, `${origin}: ${r.body}`);
    }
  });

  test('a 10 MB body: 413, even with the right token, whatever the declared content type', async () => {
    const r = await send(gw.info.url, valid(), writeCall('huge', 'x'.repeat(10 * 1024 * 1024)));
    assert.equal(r.status, 413, r.body.slice(0, 200));
    // express.json() skips other types; the SDK transport must not take them either.
    const text = await send(gw.info.url, { ...valid(), 'content-type': 'text/plain' }, writeCall('huge-text', 'x'.repeat(10 * 1024 * 1024)));
    assert.ok(text.status >= 400 && text.status < 500, `${text.status}: ${text.body.slice(0, 200)}`);
  });

  test('the other methods need the token too (SSE stream, session delete)', async () => {
    const { authorization: _a, ...headers } = valid();
    assert.equal((await send(gw.info.url, headers, '', 'GET')).status, 401);
    assert.equal((await send(gw.info.url, headers, '', 'DELETE')).status, 401);
  });

  test('nothing above reached the downstream; the same call with the right credentials does, once', async () => {
    assert.deepEqual(executed(), []);
    const state = await until('state file', () => readState(gw.configDir)?.downstreams?.find((d) => d.name === 'echo'));
    assert.equal((state as { calls?: number }).calls, 0, 'the pool counted no call');
    const ok = await client.callTool({ name: 'echo__write', arguments: { id: 'legit' } });
    assert.equal(resultText(ok), 'wrote legit');
    assert.deepEqual(executed(), ['legit']);
    await until('the pool counted exactly one call', () => (readState(gw.configDir)?.downstreams?.find((d) => d.name === 'echo') as { calls?: number } | undefined)?.calls === 1);
  });

  test('the listener is bound to loopback only', async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    if (!external) return; // a machine with no other interface: nothing to prove
    const port = Number(new URL(gw.info.url).port);
    const outcome = await new Promise<string>((resolve) => {
      const s = netConnect({ host: external, port });
      s.once('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    assert.equal(outcome, 'ECONNREFUSED');
  });
});
