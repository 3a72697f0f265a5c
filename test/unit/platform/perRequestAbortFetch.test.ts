import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { getEventListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { perRequestAbortFetch } from '../../../extension/platform/perRequestAbortFetch';

const servers: http.Server[] = [];
after(() => {
  for (const s of servers) s.closeAllConnections();
  for (const s of servers) s.close();
});

/** A loopback server; `route` answers each request. */
async function serve(route: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<string> {
  const server = http.createServer(route);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

describe('perRequestAbortFetch', () => {
  test('requests on one shared signal add one listener to it in all (plain fetch adds one per request)', async () => {
    const url = await serve((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
    const wrapped = new AbortController();
    const fetchFn = perRequestAbortFetch();
    await Promise.all(Array.from({ length: 16 }, async () => assert.deepEqual(await (await fetchFn(url, { signal: wrapped.signal })).json(), { ok: true })));
    for (let i = 0; i < 50; i++) assert.deepEqual(await (await fetchFn(url, { signal: wrapped.signal })).json(), { ok: true });
    assert.equal(listeners(wrapped.signal), 1);
    // The reason this exists: undici's own listeners stay until the GC takes their requests.
    const plain = new AbortController();
    for (let i = 0; i < 50; i++) await (await fetch(url, { signal: plain.signal })).json();
    assert.ok(listeners(plain.signal) > 0, 'plain fetch keeps listeners on the shared signal');
  });

  test('aborting the shared signal aborts a request in flight, with its reason', async () => {
    const url = await serve(() => undefined); // never answers
    const shared = new AbortController();
    const pending = perRequestAbortFetch()(url, { signal: shared.signal });
    setTimeout(() => shared.abort(new Error('closed')), 20);
    await assert.rejects(pending, /closed/);
    assert.equal(listeners(shared.signal), 0, 'the one listener went with the abort');
  });

  test('a JSON answer that has arrived is released: a later shared abort does not cut its body', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"ok":');
      setTimeout(() => res.end('true}'), 50);
    });
    const shared = new AbortController();
    const response = await perRequestAbortFetch()(url, { signal: shared.signal });
    shared.abort(new Error('closed'));
    assert.deepEqual(await response.json(), { ok: true });
  });

  test('an already aborted signal rejects at once', async () => {
    const url = await serve((_req, res) => res.end('{}'));
    await assert.rejects(perRequestAbortFetch()(url, { signal: AbortSignal.abort(new Error('gone')) }), /gone/);
  });

  test('an event stream stays linked while it is read: the shared abort ends it', async () => {
    let finish: (() => void) | undefined;
    const url = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      if (req.url === '/?short') res.end('data: two\n\n');
      else finish = () => res.end();
    });
    const fetchFn = perRequestAbortFetch();

    const shared = new AbortController();
    assert.equal(await (await fetchFn(`${url}?short`, { signal: shared.signal })).text(), 'data: one\n\ndata: two\n\n');
    const reader = (await fetchFn(url, { signal: shared.signal })).body!.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), 'data: one\n\n');
    shared.abort(new Error('transport closed'));
    await assert.rejects(reader.read(), /transport closed/);
    assert.equal(listeners(shared.signal), 0);
    finish?.();
  });

  test("the SDK's Streamable HTTP client transport keeps its signal clean over many calls", async () => {
    const mcp = new McpServer({ name: 'echo', version: '1.0.0' });
    mcp.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
    const serverTransport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), enableJsonResponse: true });
    await mcp.connect(serverTransport);
    const url = await serve((req, res) => void serverTransport.handleRequest(req, res));

    const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: perRequestAbortFetch() });
    const client = new Client({ name: 't', version: '1' });
    await client.connect(transport);
    for (let i = 0; i < 100; i++) {
      const result = await client.callTool({ name: 'echo', arguments: { text: `call ${i}` } });
      assert.deepEqual(result.content, [{ type: 'text', text: `call ${i}` }]);
    }
    const signal = (transport as unknown as { _abortController: AbortController })._abortController.signal;
    assert.equal(listeners(signal), 1, 'one listener for all the calls');
    await client.close();
    await mcp.close();
  });
});
