import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult, JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { Emitter } from '../../../extension/common/event';
import type { DownstreamDirectory } from '../../../extension/pool/types';
import { until } from '../../helpers/poll';
import { bareGateway } from '../../helpers/bareGateway';

/** A gateway over one server `echo` whose calls answer `answer`, and a raw JSON-RPC end talking to it. */
async function rawSession(answer: CallToolResult) {
  const calls: string[] = [];
  const dir: DownstreamDirectory = {
    onDidChangeTools: new Emitter<void>().event,
    listTools: () => [],
    describeTool: () => undefined,
    serverNames: () => ['echo'],
    callTool: async (_server, tool) => {
      calls.push(tool);
      return answer;
    },
    snapshot: () => [],
  };
  const gateway = bareGateway(dir);
  const [a, b] = InMemoryTransport.createLinkedPair();
  await gateway.createServer().connect(a);
  const received: JSONRPCMessage[] = [];
  b.onmessage = (m) => received.push(m);
  await b.start();
  let id = 0;
  const ask = async (method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const mine = ++id;
    await b.send({ jsonrpc: '2.0', id: mine, method, params });
    return (await until(`the answer to ${method}`, () => received.find((m) => 'id' in m && m.id === mine))) as Record<string, unknown>;
  };
  await ask('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } });
  await b.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return { ask, calls, close: () => gateway.close() };
}

describe('tools/call validated once', () => {
  test('the result the chain settled on is sent as it is: not parsed and copied again on the way out', async () => {
    const answer: CallToolResult = { content: [{ type: 'text', text: 'hello' }], structuredContent: { n: 1 } };
    const session = await rawSession(answer);
    const response = await session.ask('tools/call', { name: 'echo__echo', arguments: { text: 'hello' } });
    assert.equal(response.result, answer);
    await session.close();
  });

  test('a malformed request is still refused by the request schema, before anything is called', async () => {
    const session = await rawSession({ content: [] });
    const response = await session.ask('tools/call', { arguments: {} });
    const error = response.error as { code: number; message: string };
    assert.equal(error.code, -32603);
    assert.match(error.message, /"params",\s*"name"/);
    assert.deepEqual(session.calls, []);
    await session.close();
  });

  test('a task-augmented call is refused as before (no tasks capability), before anything is called', async () => {
    const session = await rawSession({ content: [{ type: 'text', text: 'x' }] });
    const response = await session.ask('tools/call', { name: 'echo__echo', arguments: {}, task: { ttl: 1000 } });
    assert.match((response.error as { message: string }).message, /does not support task creation/);
    assert.deepEqual(session.calls, []);
    await session.close();
  });
});
