import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { safeParse, type AnySchema } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import { CallToolResultSchema, LATEST_PROTOCOL_VERSION, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { callToolResultSchema, isPlainCallToolResult } from '../../../extension/pool/callToolResultSchema';
import { stdioServer } from '../../helpers/fixtures';
import { until } from '../../helpers/poll';
import { startPool, textOf } from '../../helpers/pool';

// Results as they arrive from a child (JSON text), plain ones and every way of not being plain.
const results = [
  '{"content":[{"type":"text","text":"hi"}]}',
  '{"content":[]}',
  '{"content":[{"type":"text","text":"a"},{"type":"text","text":""}],"isError":false}',
  '{"content":[{"type":"text","text":"a"}],"structuredContent":{"n":1,"2":"x","o":{"p":[1]}},"isError":true}',
  '{"content":[{"type":"text","text":"a"}],"structuredContent":{}}',
  '{"isError":true,"content":[{"type":"text","text":"order"}]}',
  '{"content":[{"text":"order","type":"text"}]}',
  '{"structuredContent":{"a":1},"content":[]}',
  '{}',
  '{"isError":true}',
  '{"content":[{"type":"text","text":"x","annotations":{"priority":0.5}}]}',
  '{"content":[{"type":"text","text":"x","annotations":{"priority":5}}]}',
  '{"content":[{"type":"text","text":"x","extra":1}]}',
  '{"content":[{"type":"text","text":1}]}',
  '{"content":[{"type":"text"}]}',
  '{"content":[{"type":"image","data":"AAAA","mimeType":"image/png"}]}',
  '{"content":[{"type":"resource_link","uri":"file:///a","name":"a"}]}',
  '{"content":[{"type":"resource","resource":{"uri":"file:///a","text":"t"}}]}',
  '{"content":[{"type":"nope"}]}',
  '{"content":[null]}',
  '{"content":[[]]}',
  '{"content":{"type":"text","text":"x"}}',
  '{"content":"x"}',
  '{"content":null}',
  '{"content":[],"structuredContent":[]}',
  '{"content":[],"structuredContent":null}',
  '{"content":[],"structuredContent":"x"}',
  '{"content":[],"structuredContent":{"__proto__":{"polluted":1}}}',
  '{"content":[],"__proto__":{"polluted":1}}',
  '{"content":[{"__proto__":{},"type":"text","text":"x"}]}',
  '{"content":[],"isError":"yes"}',
  '{"content":[],"isError":null}',
  '{"content":[],"extra":{"kept":true}}',
  '{"content":[],"_meta":{"progressToken":1}}',
  '{"content":[],"_meta":{"progressToken":{}}}',
  '{"content":[],"toolResult":1}',
  '{"content":[{"type":"text","text":"x"}],"isError":false,"extra":1}',
];

/** What the SDK's `request()` does with a result under `schema`: the value it resolves with, or the error it rejects with. */
function outcome(schema: AnySchema, value: unknown): { json: string; value: unknown } | { error: string; type: string } {
  try {
    const parsed = safeParse(schema, value);
    if (parsed.success) return { json: JSON.stringify(parsed.data), value: parsed.data };
    const error = parsed.error as Error;
    return { error: error.message, type: error.constructor.name };
  } catch (err) {
    return { error: (err as Error).message, type: (err as Error).constructor.name };
  }
}

describe('callToolResultSchema', () => {
  for (const text of results) {
    it(`agrees with CallToolResultSchema on ${text}`, () => {
      const ours = outcome(callToolResultSchema, JSON.parse(text));
      const sdk = outcome(CallToolResultSchema, JSON.parse(text));
      // Same value (and the same bytes when sent on), or the same error.
      assert.deepStrictEqual(ours, sdk);
    });
  }

  it('takes the hand-checked path for plain answers only', () => {
    const plain = results.filter((text) => isPlainCallToolResult(JSON.parse(text)));
    assert.deepEqual(plain, results.slice(0, 5));
  });

  it('the SDK client resolves and rejects with it exactly as with the SDK schema', async () => {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    // A raw server: answers initialize, then each tools/call with the next result of the list.
    let next = 0;
    serverSide.onmessage = (message: JSONRPCMessage) => {
      if (!('id' in message) || !('method' in message)) return;
      const result =
        message.method === 'initialize'
          ? { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: { tools: {} }, serverInfo: { name: 'raw', version: '1' } }
          : (JSON.parse(results[Math.floor(next++ / 2)]!) as Record<string, unknown>);
      void serverSide.send({ jsonrpc: '2.0', id: message.id, result } as JSONRPCMessage);
    };
    await serverSide.start();
    const client = new Client({ name: 't', version: '1' });
    await client.connect(clientSide);
    const settle = (schema: AnySchema) =>
      client.request({ method: 'tools/call', params: { name: 'x', arguments: {} } }, schema).then(
        (value) => ({ json: JSON.stringify(value), value: value as unknown }),
        (err: Error) => ({ error: err.message, type: err.constructor.name }),
      );
    try {
      for (const text of results) {
        const sdk = await settle(CallToolResultSchema);
        const ours = await settle(callToolResultSchema);
        assert.deepStrictEqual(ours, sdk, text);
      }
    } finally {
      await client.close();
    }
  });

  it("a child's plain answer to a tool call is not run through CallToolResultSchema", async () => {
    const pool = startPool([stdioServer('echo', 'echo.mjs')]);
    const run = mock.method(CallToolResultSchema._zod, 'run');
    try {
      await until('echo ready', () => pool.connection('echo')?.state === 'ready');
      run.mock.resetCalls();
      assert.equal(textOf(await pool.callTool('echo', 'echo', { text: 'hi' })), 'hi');
      assert.equal(run.mock.callCount(), 0);
      // Not plain (isError comes first): the full schema, as before.
      const failed = await pool.callTool('echo', 'fail', {});
      assert.equal(failed.isError, true);
      assert.equal(textOf(failed), 'failed on purpose');
    } finally {
      mock.restoreAll();
      await pool.stop();
      pool.dispose();
    }
  });
});
