import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { JSONRPCMessage, JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { SessionTransport } from '../../../../extension/gateway/http/sessionTransport';
import { rawResults } from '../../../../extension/platform/rawResults';

/** A session on a real node:http server whose every request is answered with `answer(request)`. */
async function session(answer: (request: JSONRPCRequest) => JSONRPCMessage): Promise<{ post: (body: unknown) => Promise<string>; close: () => Promise<void> }> {
  const transport = new SessionTransport('s-1');
  transport.onmessage = (m) => void transport.send(answer(m as JSONRPCRequest));
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      const parsed = JSON.parse(body) as JSONRPCMessage | JSONRPCMessage[];
      transport.post(req, res, Array.isArray(parsed) ? parsed : [parsed], Array.isArray(parsed));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    post: async (body) => (await fetch(url, { method: 'POST', body: JSON.stringify(body) })).text(),
    close: async () => {
      await transport.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('SessionTransport: a result with its child\'s bytes kept', () => {
  it('is answered with those bytes between the members serialised here; a batch and a second send are serialised', async () => {
    const result = { content: [{ type: 'text', text: `grüße ${'k'.repeat(40_000)}` }] };
    const json = Buffer.from(JSON.stringify(result));
    // Bytes that differ from the result on purpose (same length): the body shows which path ran.
    const marked = Buffer.from(json);
    marked.write('GRUESSE', json.indexOf('gr'), 'latin1');
    const s = await session((request) => ({ result, jsonrpc: '2.0', id: request.id }));
    try {
      rawResults.keep(result, marked, 0, marked.length);
      const first = await s.post({ jsonrpc: '2.0', id: 'é"1', method: 'tools/call', params: { name: 'x' } });
      assert.ok(first === JSON.stringify({ result, jsonrpc: '2.0', id: 'é"1' }).replace('grüße', 'GRUESSE'), 'the kept bytes, between the members serialised here');
      assert.equal(rawResults.byteLength(result), undefined, 'taken');
      const again = await s.post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'x' } });
      assert.ok(again === JSON.stringify({ result, jsonrpc: '2.0', id: 2 }), 'taken once: serialised the second time');
      rawResults.keep(result, marked, 0, marked.length);
      const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'x' } });
      const batch = await s.post([call(3), call(4)]);
      assert.ok(batch === JSON.stringify([3, 4].map((id) => ({ result, jsonrpc: '2.0', id }))), 'a batch body is serialised');
    } finally {
      await s.close();
    }
  });

  it('asks the pool to record result bytes only while the session is open', async () => {
    const before = rawResults.wanted;
    const transport = new SessionTransport('s-2');
    assert.equal(rawResults.wanted, true);
    await transport.close();
    await transport.close();
    assert.equal(rawResults.wanted, before);
  });
});
