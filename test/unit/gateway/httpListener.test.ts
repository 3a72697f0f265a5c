import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Emitter } from '../../../extension/common/event';
import { nullLogger } from '../../../extension/common/logger';
import { HttpListener } from '../../../extension/gateway/httpListener';
import type { DownstreamDirectory } from '../../../extension/pool/types';
import { bareGateway } from '../../helpers/bareGateway';

const dir: DownstreamDirectory = {
  onDidChangeTools: new Emitter<void>().event,
  listTools: () => [],
  describeTool: () => undefined,
  serverNames: () => [],
  callTool: async () => ({ content: [] }),
  snapshot: () => [],
};
const gateway = bareGateway(dir);
const listener = new HttpListener(gateway, { maxSessions: 2, token: 't'.repeat(43), logger: nullLogger });
after(async () => {
  await listener.stop();
  gateway.dispose();
});

async function client(url: string): Promise<Client> {
  const c = new Client({ name: 'unit', version: '1' });
  await c.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${'t'.repeat(43)}` } } }));
  return c;
}

describe('HttpListener sessions', () => {
  test('beyond maxSessions the least recently active session is closed, the others keep working', async () => {
    const { url } = await listener.start();
    const a = await client(url);
    const b = await client(url);
    // a is now more recent than b.
    await a.listTools();
    const c = await client(url);
    assert.equal(listener.sessionCount, 2);
    await assert.rejects(b.listTools(), /404|session/i);
    assert.equal((await a.listTools()).tools[0]?.name, 'gatehouse__health');
    assert.equal((await c.listTools()).tools[0]?.name, 'gatehouse__health');
    await Promise.all([a, b, c].map((x) => x.close()));
  });
});

describe('HttpListener log', () => {
  test('names each client that connects and disconnects, with control characters neutralised', async () => {
    const lines: string[] = [];
    const logger = { ...nullLogger, info: (m: string) => lines.push(m) };
    const logged = new HttpListener(gateway, { token: 't'.repeat(43), logger });
    try {
      const { url } = await logged.start();
      const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${'t'.repeat(43)}` } } });
      const c = new Client({ name: 'Claude\u001b[31mCode', version: '2.1' });
      await c.connect(transport);
      assert.deepEqual(lines, ['MCP client connected: Claude?[31mCode 2.1 (1 open)']);
      await transport.terminateSession();
      await c.close();
      assert.equal(lines[1], 'MCP client disconnected: Claude?[31mCode 2.1 (0 open)');
    } finally {
      await logged.stop();
    }
  });
});

describe('HttpListener refused requests', () => {
  test('an initialize the SDK refuses (406: no or a partial Accept) leaves no transport or MCP server behind', async () => {
    const refusing = new HttpListener(gateway, { token: 't'.repeat(43), logger: nullLogger });
    try {
      const { url } = await refusing.start();
      const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
      const auth = { Authorization: `Bearer ${'t'.repeat(43)}`, 'Content-Type': 'application/json' };
      const send = async (headers: Record<string, string>): Promise<number> => {
        const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(init) });
        await res.arrayBuffer();
        return res.status;
      };
      // Few at a time: the bound is on what is held, not on how fast they come.
      for (let round = 0; round < 100; round++) {
        const statuses = await Promise.all(
          Array.from({ length: 20 }, (_, i) => send(i % 2 ? auth : { ...auth, Accept: 'text/event-stream' })),
        );
        for (const s of statuses) assert.equal(s, 406);
      }
      assert.equal(refusing.sessionCount, 0);
      assert.equal(refusing.transportCount, 0, 'every transport made for a refused request was closed');
      // A real client still gets in, and it is the one transport held.
      const c = await client(url);
      assert.equal(refusing.transportCount, 1);
      await c.close();
    } finally {
      await refusing.stop();
    }
  });
});
