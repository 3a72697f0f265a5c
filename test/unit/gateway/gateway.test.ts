import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ToolListChangedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Emitter } from '../../../extension/common/event';
import { nullLogger } from '../../../extension/common/logger';
import { dispatch } from '../../../extension/gateway/chain/dispatch';
import { Gateway } from '../../../extension/gateway/gateway';
import type { AggregatedTool, DownstreamDirectory } from '../../../extension/pool/types';
import { bareGateway } from '../../helpers/bareGateway';

/** A directory over plain functions: the gateway's routing is under test, not the pool. */
function directory(tools: AggregatedTool[], call: (server: string, tool: string) => CallToolResult) {
  const changed = new Emitter<void>();
  const calls: string[] = [];
  const dir: DownstreamDirectory = {
    onDidChangeTools: changed.event,
    listTools: () => tools,
    describeTool: (name) => tools.find((t) => t.name === name),
    serverNames: () => ['echo', 'memory'],
    callTool: async (server, tool) => {
      calls.push(`${server}:${tool}`);
      return call(server, tool);
    },
    snapshot: () => [],
  };
  return { dir, changed, calls };
}

const echoTool: AggregatedTool = {
  name: 'echo__echo',
  server: 'echo',
  originalName: 'echo',
  title: 'Echo',
  description: 'Echoes',
  inputSchema: { type: 'object' },
  annotations: { readOnlyHint: true },
};

async function connect(gateway: Gateway): Promise<Client> {
  const [a, b] = InMemoryTransport.createLinkedPair();
  await gateway.createServer().connect(a);
  const client = new Client({ name: 't', version: '1' });
  await client.connect(b);
  return client;
}

function gatewayFor(dir: DownstreamDirectory, refused: string[] = []): Gateway {
  return bareGateway(dir, { onRefused: (ctx) => refused.push(`${ctx.reason_code}:${ctx.full_name}`) });
}

describe('Gateway routing', () => {
  test('lists health first and the aggregate without internal routing fields, keeping annotations', async () => {
    const { dir } = directory([echoTool], () => ({ content: [] }));
    const client = await connect(gatewayFor(dir));
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name), ['gatehouse__health', 'echo__echo']);
    assert.equal((tools[1] as Record<string, unknown>).server, undefined);
    assert.equal(tools[1]?.annotations?.readOnlyHint, true);
    assert.equal(tools[1]?.title, 'Echo');
  });

  test('unknown servers and unprefixed names are refused before the chain, listing valid servers', async () => {
    const refused: string[] = [];
    const { dir, calls } = directory([echoTool], () => ({ content: [] }));
    const client = await connect(gatewayFor(dir, refused));
    const ghost = await client.callTool({ name: 'ghost__x', arguments: {} });
    assert.equal(ghost.isError, true);
    assert.match(JSON.stringify(ghost.content), /Unknown server 'ghost'.*Servers: echo, memory/);
    const bare = await client.callTool({ name: 'echo', arguments: {} });
    assert.match(JSON.stringify(bare.content), /missing the server prefix/);
    const reserved = await client.callTool({ name: 'gatehouse__other', arguments: {} });
    assert.match(JSON.stringify(reserved.content), /reserved namespace/);
    assert.deepEqual(calls, [], 'nothing reached a downstream');
    assert.deepEqual(refused, ['unknown_server:ghost__x', 'missing_prefix:echo', 'reserved_namespace:gatehouse__other']);
  });

  test('a downstream isError result passes through unchanged; a routed call reaches its server', async () => {
    const result: CallToolResult = { isError: true, content: [{ type: 'text', text: 'tool said no' }], structuredContent: { why: 'x' } };
    const { dir, calls } = directory([echoTool], () => result);
    const client = await connect(gatewayFor(dir));
    assert.deepEqual(await client.callTool({ name: 'echo__echo', arguments: {} }), result);
    assert.deepEqual(calls, ['echo:echo']);
  });

  test("a call to a server that is down is described by the tool's last listing, not left bare", async () => {
    // The server is respawning: nothing listed now, but the call may wait and run, so the chain
    // (tier, read-only retry) must see the annotations it was listed with.
    const { dir } = directory([], () => ({ content: [] }));
    const down: DownstreamDirectory = { ...dir, describeTool: (name) => (name === echoTool.name ? echoTool : undefined) };
    const seen: Array<AggregatedTool | undefined> = [];
    const gateway = new Gateway({
      pool: down,
      sessionId: 's',
      layers: [
        async (ctx, next) => {
          seen.push(ctx.tool);
          await next();
        },
        dispatch(down),
      ],
      snapshot: () => ({ revision: 1, session_id: 's', started_at: '', downstreams: [], session_blocks: [] }),
      logger: nullLogger,
    });
    const client = await connect(gateway);
    await client.callTool({ name: 'echo__echo', arguments: {} });
    assert.equal(seen[0]?.annotations?.readOnlyHint, true);
  });

  test('tools/list_changed goes to every connected client when the aggregate changes', async () => {
    const { dir, changed } = directory([echoTool], () => ({ content: [] }));
    const gateway = gatewayFor(dir);
    const clients = [await connect(gateway), await connect(gateway)];
    let notified = 0;
    for (const c of clients) c.setNotificationHandler(ToolListChangedNotificationSchema, () => void notified++);
    changed.fire();
    for (let i = 0; i < 50 && notified < 2; i++) await new Promise((r) => setImmediate(r));
    assert.equal(notified, 2);
  });
});
