import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  CreateMessageRequestSchema,
  JSONRPCResultResponseSchema,
  RootsListChangedNotificationSchema,
  type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';
import { directRequests } from '../../../../extension/gateway/routing/directRequests';
import { until } from '../../../helpers/poll';

/** Counts the response-schema checks the SDK makes of messages that are requests (method set). */
function countResponseChecksOfRequests(): { count(): number; restore(): void } {
  const schema = JSONRPCResultResponseSchema as unknown as { safeParse: (value: unknown) => unknown };
  const original = schema.safeParse;
  let n = 0;
  schema.safeParse = function (this: unknown, value: unknown) {
    if (typeof value === 'object' && value !== null && 'method' in value) n++;
    return original.call(this, value);
  };
  return { count: () => n, restore: () => (schema.safeParse = original) };
}

/** A server answering tools/call, connected to a client, with the transport's own hook recording. */
async function pair(direct: boolean) {
  const server = new Server({ name: 's', version: '1' }, { capabilities: { tools: {} } });
  const notified: string[] = [];
  server.setRequestHandler(CallToolRequestSchema, async (request) => ({ content: [{ type: 'text', text: `called ${request.params.name}` }] }));
  server.setNotificationHandler(RootsListChangedNotificationSchema, () => void notified.push('roots'));
  if (direct) directRequests(server);
  const [a, b] = InMemoryTransport.createLinkedPair();
  const hooked: string[] = [];
  a.onmessage = (m: JSONRPCMessage) => hooked.push('method' in m ? m.method : 'response');
  await server.connect(a);
  const client = new Client({ name: 'c', version: '1' }, { capabilities: { sampling: {}, roots: { listChanged: true } } });
  client.setRequestHandler(CreateMessageRequestSchema, async () => ({ role: 'assistant', content: { type: 'text', text: 'sampled' }, model: 'm' }));
  await client.connect(b);
  return { server, client, hooked, notified };
}

describe('directRequests', () => {
  const checks = countResponseChecksOfRequests();
  after(() => checks.restore());

  test('a request goes straight to its handler: no response schema is tried on it', async () => {
    const { client, server } = await pair(true);
    const before = checks.count();
    const result = await client.callTool({ name: 'x', arguments: {} });
    assert.deepEqual(result.content, [{ type: 'text', text: 'called x' }]);
    await client.ping();
    assert.equal(checks.count(), before, 'response schemas tried on requests');
    await server.close();
  });

  test('without it the SDK tries the response schemas on every request (what it saves)', async () => {
    const { client, server } = await pair(false);
    const before = checks.count();
    await client.callTool({ name: 'x', arguments: {} });
    assert.ok(checks.count() > before);
    await server.close();
  });

  test("everything else keeps the SDK's path: the transport's hook, notifications, answers to the server's requests, errors", async () => {
    const { client, server, hooked, notified } = await pair(true);
    await client.callTool({ name: 'x', arguments: {} });
    await client.sendRootsListChanged();
    await until('the notification handled', () => notified.length === 1);
    const sampled = await server.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 5 });
    assert.deepEqual(sampled.content, { type: 'text', text: 'sampled' });
    await assert.rejects(client.request({ method: 'prompts/list' }, JSONRPCResultResponseSchema), /Method not found/);
    assert.deepEqual(hooked, ['initialize', 'notifications/initialized', 'tools/call', 'notifications/roots/list_changed', 'response', 'prompts/list']);
    await server.close();
  });
});
