import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { endpointOf, isMessage, loopbackHosts, refusedBearer, refusedHost } from '../../../../extension/gateway/http/requestChecks';

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
});
