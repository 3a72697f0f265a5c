import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { connectionBearer, endpointOf, isMessage, loopbackHosts, refusedBearer, refusedHost } from '../../../../extension/gateway/http/requestChecks';

describe('HTTP request checks', () => {
  test('Host: loopback names pass (with or without the port), anything else is refused with the SDK texts', () => {
    const fast = loopbackHosts(4000);
    for (const ok of ['127.0.0.1:4000', 'localhost:4000', '[::1]:4000', 'localhost', 'LOCALHOST:4000', '127.0.0.1:9']) assert.equal(refusedHost(ok, fast), undefined, ok);
    assert.equal(refusedHost(undefined, fast), 'Missing Host header');
    assert.equal(refusedHost('evil.example:4000', fast), 'Invalid Host: evil.example');
    assert.equal(refusedHost('127.0.0.1.evil.example', fast), 'Invalid Host: 127.0.0.1.evil.example');
    assert.match(refusedHost('a b', fast) ?? '', /^Invalid Host header/);
  });

  test('Authorization: only `Bearer <token>` with the matching token', () => {
    const matches = (t: string) => t === 'right';
    assert.equal(refusedBearer('Bearer right', matches), undefined);
    assert.equal(refusedBearer('bearer right', matches), undefined);
    assert.equal(refusedBearer(undefined, matches), 'Missing Authorization header');
    assert.match(refusedBearer('Basic right', matches) ?? '', /expected 'Bearer TOKEN'/);
    assert.match(refusedBearer('Bearer', matches) ?? '', /expected 'Bearer TOKEN'/);
    assert.equal(refusedBearer('Bearer wrong', matches), 'Invalid token');
  });

  test('paths: /mcp and /mcp/<profile> (one segment, decoded), a trailing slash and a query ignored', () => {
    assert.equal(endpointOf('/mcp'), '');
    assert.equal(endpointOf('/mcp/'), '');
    assert.equal(endpointOf('/MCP?x=1'), '');
    assert.equal(endpointOf('/mcp/review'), 'review');
    assert.equal(endpointOf('/mcp/review/?a'), 'review');
    assert.equal(endpointOf('/mcp/a%20b'), 'a b');
    for (const no of ['/', '/mcpx', '/mcp/a/b', '/other', '/mcp/%E0%A4%A', '', undefined]) assert.equal(endpointOf(no), undefined, String(no));
  });

  test('messages: the JSON-RPC envelope only', () => {
    for (const ok of [
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { jsonrpc: '2.0', id: 'a', method: 'x', params: {} },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 1, result: {} },
      { jsonrpc: '2.0', id: 1, error: { code: -1, message: 'no' } },
    ]) assert.equal(isMessage(ok), true, JSON.stringify(ok));
    for (const bad of [
      null,
      42,
      [],
      { id: 1, method: 'x' },
      { jsonrpc: '2.0', id: null, method: 'x' },
      { jsonrpc: '2.0', id: 1.5, method: 'x' },
      { jsonrpc: '2.0', method: 7 },
      { jsonrpc: '2.0', id: 1 },
      { jsonrpc: '2.0', id: 1, result: 'x' },
      { jsonrpc: '2.0', id: 1, error: { code: 'x', message: 'no' } },
      { jsonrpc: '2.0', id: 1, method: 'x', result: {} },
    ]) assert.equal(isMessage(bad), false, JSON.stringify(bad));
  });

  test('bearer per connection: a keep-alive connection that presented the token is not hashed again; any other header, and every new connection, is checked in full', async () => {
    const checked: string[] = [];
    const refused = connectionBearer((t) => (checked.push(t), t === 'right'));
    const server = createServer((req, res) => {
      const reason = refused(req);
      res.writeHead(reason ? 401 : 200, { 'content-type': 'text/plain' }).end(reason ?? 'ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const send = (agent: Agent, authorization?: string) =>
      new Promise<{ status: number; socket: unknown; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/mcp', agent, headers: authorization ? { authorization } : {} }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, socket: req.socket, body }));
        });
        req.on('error', reject);
        req.end();
      });
    const one = new Agent({ keepAlive: true, maxSockets: 1 });
    const other = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await send(one, 'Bearer right');
      const second = await send(one, 'Bearer right');
      assert.equal(first.status, 200);
      assert.equal(second.status, 200);
      assert.equal(second.socket, first.socket, 'the agent kept the connection');
      assert.deepEqual(checked, ['right'], 'the second request on the connection is not hashed again');
      // The same connection with another header: checked in full, and refused.
      assert.deepEqual(await send(one, 'Bearer wrong').then((r) => [r.status, r.body]), [401, 'Invalid token']);
      assert.deepEqual(await send(one).then((r) => [r.status, r.body]), [401, 'Missing Authorization header']);
      // A new connection presenting the header a first one proved is checked again.
      assert.equal((await send(other, 'Bearer right')).status, 200);
      assert.deepEqual(checked, ['right', 'wrong', 'right']);
    } finally {
      one.destroy();
      other.destroy();
      server.close();
    }
  });
});
