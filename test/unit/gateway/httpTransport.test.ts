import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Emitter } from '../../../extension/common/event';
import { nullLogger } from '../../../extension/common/logger';
import { HttpListener } from '../../../extension/gateway/httpListener';
import type { AggregatedTool, CallOptions, DownstreamDirectory } from '../../../extension/pool/types';
import { until } from '../../helpers/poll';
import { bareGateway } from '../../helpers/bareGateway';

const TOKEN = 'k'.repeat(43);
const echoTool: AggregatedTool = { name: 'echo__echo', server: 'echo', originalName: 'echo', inputSchema: { type: 'object' } };
const slowTool: AggregatedTool = { name: 'echo__slow', server: 'echo', originalName: 'slow', inputSchema: { type: 'object' } };
const tools = [echoTool, slowTool];

/** What the downstream saw: the signals of `slow` calls, so a test can see one abort. */
const slowSignals: AbortSignal[] = [];
const toolsChanged = new Emitter<void>();
const dir: DownstreamDirectory = {
  onDidChangeTools: toolsChanged.event,
  listTools: () => tools,
  describeTool: (name) => tools.find((t) => t.name === name),
  serverNames: () => ['echo'],
  callTool: async (_server, tool, args, options?: CallOptions): Promise<CallToolResult> => {
    if (tool === 'slow') {
      const signal = options?.signal;
      if (signal) slowSignals.push(signal);
      await new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
      return { content: [{ type: 'text', text: 'cancelled' }] };
    }
    // A child that reports progress before answering, when the caller asked for it.
    if (options?.onprogress) {
      options.onprogress({ progress: 1, total: 2 });
      await new Promise((r) => setImmediate(r));
      options.onprogress({ progress: 2, total: 2 });
    }
    return { content: [{ type: 'text', text: String(args.text) }] };
  },
  snapshot: () => [],
};
const gateway = bareGateway(dir);
const listener = new HttpListener(gateway, { token: TOKEN, logger: nullLogger });
let url = '';

before(async () => {
  url = (await listener.start()).url;
});
after(async () => {
  await listener.stop();
  gateway.dispose();
});

const BASE = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const INIT = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };

function post(body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { ...BASE, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body), signal });
}

/** A session opened by hand (initialize, then initialized), its id. */
async function session(): Promise<string> {
  const res = await post(INIT);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  const id = res.headers.get('mcp-session-id');
  assert.ok(id, 'initialize answered with a session id');
  assert.equal(((await res.json()) as { result?: { serverInfo?: unknown } }).result?.serverInfo !== undefined, true);
  const ack = await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, { 'mcp-session-id': id });
  assert.equal(ack.status, 202);
  return id;
}

/** The JSON-RPC messages of an event-stream body, in order. */
function events(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n\n')
    .map((block) => block.split('\n').find((l) => l.startsWith('data: ')))
    .filter((l): l is string => l !== undefined)
    .map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);
}

const call = (id: number, name: string, args: Record<string, unknown>, meta?: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) },
});

describe('HTTP transport: how a POST is answered', () => {
  test('a plain call gets one application/json body with its result', async () => {
    const sid = await session();
    const res = await post(call(1, 'echo__echo', { text: 'plain' }), { 'mcp-session-id': sid });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.headers.get('mcp-session-id'), sid);
    const body = (await res.json()) as { id: number; result: CallToolResult };
    assert.equal(body.id, 1);
    assert.deepEqual(body.result.content, [{ type: 'text', text: 'plain' }]);
  });

  test('a call that reports progress gets an event stream: the progress, then the result', async () => {
    const sid = await session();
    const res = await post(call(2, 'echo__echo', { text: 'with progress' }, { progressToken: 'p-1' }), { 'mcp-session-id': sid });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const messages = events(await res.text());
    assert.deepEqual(
      messages.map((m) => m.method ?? `result ${String(m.id)}`),
      ['notifications/progress', 'notifications/progress', 'result 2'],
    );
    assert.deepEqual(messages[0]?.params, { progress: 1, total: 2, progressToken: 'p-1' });
    assert.deepEqual((messages[2]?.result as CallToolResult).content, [{ type: 'text', text: 'with progress' }]);
  });

  test('the SDK client sees the progress and the result of its call', async () => {
    const c = new Client({ name: 'sdk', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }));
    try {
      const seen: number[] = [];
      const r = await c.callTool({ name: 'echo__echo', arguments: { text: 'sdk' } }, undefined, { onprogress: (p) => void seen.push(p.progress) });
      assert.deepEqual(r.content, [{ type: 'text', text: 'sdk' }]);
      await until('both progress notifications handled', () => seen.length === 2);
      assert.deepEqual(seen, [1, 2]);
    } finally {
      await c.close();
    }
  });

  test('a batch of two calls is answered with an array of both results; a batch of notifications with 202', async () => {
    const sid = await session();
    const res = await post([call(3, 'echo__echo', { text: 'a' }), call(4, 'echo__echo', { text: 'b' })], { 'mcp-session-id': sid });
    assert.equal(res.headers.get('content-type'), 'application/json');
    const body = (await res.json()) as Array<{ id: number; result: CallToolResult }>;
    assert.deepEqual(body.map((m) => [m.id, m.result.content[0]]), [
      [3, { type: 'text', text: 'a' }],
      [4, { type: 'text', text: 'b' }],
    ]);
    const notes = await post([{ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }], { 'mcp-session-id': sid });
    assert.equal(notes.status, 202);
  });
});

describe('HTTP transport: sessions', () => {
  test('initialize issues an id; without it 400, an unknown one 404; DELETE ends the session', async () => {
    const sid = await session();
    const list = { jsonrpc: '2.0', id: 9, method: 'tools/list' };
    const missing = await post(list);
    assert.equal(missing.status, 400);
    assert.match(JSON.stringify(await missing.json()), /initialize/);
    const unknown = await post(list, { 'mcp-session-id': 'no-such-session' });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { id: unknown }).id, null);
    const again = await post(INIT, { 'mcp-session-id': sid });
    assert.equal(again.status, 400, 'a second initialize on a live session is refused');
    await again.arrayBuffer();

    const ok = await post(list, { 'mcp-session-id': sid });
    assert.equal(ok.status, 200);
    assert.ok(((await ok.json()) as { result: { tools: unknown[] } }).result.tools.length > 0);
    const open = listener.sessionCount;
    const del = await fetch(url, { method: 'DELETE', headers: { authorization: BASE.authorization, 'mcp-session-id': sid } });
    assert.equal(del.status, 200);
    assert.equal(listener.sessionCount, open - 1);
    const gone = await post(list, { 'mcp-session-id': sid });
    assert.equal(gone.status, 404);
    await gone.arrayBuffer();
  });

  test('an unsupported MCP-Protocol-Version header is refused 400, a supported one accepted', async () => {
    const sid = await session();
    const list = { jsonrpc: '2.0', id: 10, method: 'tools/list' };
    const bad = await post(list, { 'mcp-session-id': sid, 'mcp-protocol-version': '1999-01-01' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /Unsupported protocol version: 1999-01-01/);
    const good = await post(list, { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' });
    assert.equal(good.status, 200);
    await good.arrayBuffer();
  });

  test('the GET event stream delivers tools/list_changed; a second GET is refused 409', async () => {
    const sid = await session();
    const stream = new AbortController();
    const res = await fetch(url, { headers: { authorization: BASE.authorization, accept: 'text/event-stream', 'mcp-session-id': sid }, signal: stream.signal });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const second = await fetch(url, { headers: { authorization: BASE.authorization, accept: 'text/event-stream', 'mcp-session-id': sid } });
    assert.equal(second.status, 409);
    await second.arrayBuffer();
    const reader = res.body!.getReader();
    toolsChanged.fire();
    let text = '';
    while (!text.includes('list_changed')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    assert.deepEqual(events(text).map((m) => m.method), ['notifications/tools/list_changed']);
    stream.abort();
  });
});

describe('HTTP transport: a dropped POST', () => {
  test('closing the connection before the answer cancels the call downstream', async () => {
    const sid = await session();
    const drop = new AbortController();
    const before = slowSignals.length;
    const pending = post(call(11, 'echo__slow', {}), { 'mcp-session-id': sid }, drop.signal).catch(() => 'dropped');
    const signal = await until('the slow call reached the downstream', () => slowSignals[before]);
    assert.equal(signal.aborted, false);
    drop.abort();
    assert.equal(await pending, 'dropped');
    await until('the downstream call aborted', () => signal.aborted);
    // The session carries on.
    const ok = await post(call(12, 'echo__echo', { text: 'still here' }), { 'mcp-session-id': sid });
    assert.equal(((await ok.json()) as { result: CallToolResult }).result.content[0]?.type, 'text');
  });

  test('a dropped batch cancels each of its calls', async () => {
    const sid = await session();
    const drop = new AbortController();
    const before = slowSignals.length;
    const pending = post([call(13, 'echo__slow', {}), call(14, 'echo__slow', {})], { 'mcp-session-id': sid }, drop.signal).catch(() => 'dropped');
    const signals = await until('both slow calls reached the downstream', () => (slowSignals.length >= before + 2 ? slowSignals.slice(before) : undefined));
    assert.equal(signals.some((s) => s.aborted), false);
    drop.abort();
    assert.equal(await pending, 'dropped');
    await until('both downstream calls aborted', () => signals.every((s) => s.aborted));
  });

  test('answered and dropped POSTs leave nothing in flight: stop does not wait out its drain time', async () => {
    const own = new HttpListener(gateway, { token: TOKEN, logger: nullLogger, drainMs: 5000 });
    const ownUrl = (await own.start()).url;
    const send = (body: unknown, headers: Record<string, string>, signal?: AbortSignal) =>
      fetch(ownUrl, { method: 'POST', headers: { ...BASE, ...headers }, body: JSON.stringify(body), signal });
    const init = await send(INIT, {});
    const sid = init.headers.get('mcp-session-id') ?? '';
    await init.arrayBuffer();
    await (await send({ jsonrpc: '2.0', method: 'notifications/initialized' }, { 'mcp-session-id': sid })).arrayBuffer();
    await (await send(call(1, 'echo__echo', { text: 'answered' }), { 'mcp-session-id': sid })).json();
    const drop = new AbortController();
    const before = slowSignals.length;
    const pending = send(call(2, 'echo__slow', {}), { 'mcp-session-id': sid }, drop.signal).catch(() => 'dropped');
    const signal = await until('the slow call reached the downstream', () => slowSignals[before]);
    drop.abort();
    assert.equal(await pending, 'dropped');
    await until('the downstream call aborted', () => signal.aborted);
    const began = performance.now();
    await own.stop();
    assert.ok(performance.now() - began < 1000, `stop took ${Math.round(performance.now() - began)} ms: a POST was still counted in flight`);
  });
});

describe('HTTP transport: bad requests get the SDK transport answers', () => {
  const error = async (res: Response) => {
    const body = (await res.json()) as { error: { code: number; message: string }; id: unknown };
    return { ...body.error, id: body.id };
  };

  test('wrong Accept 406, wrong Content-Type 415, bad JSON 400 -32700, not JSON-RPC 400, other methods 405', async () => {
    const partial = await post(INIT, { accept: 'application/json' });
    assert.equal(partial.status, 406);
    assert.match((await error(partial)).message, /Not Acceptable/);
    const getJson = await fetch(url, { headers: { authorization: BASE.authorization, accept: 'application/json' } });
    assert.equal(getJson.status, 406);
    await getJson.arrayBuffer();
    const text = await post(INIT, { 'content-type': 'text/plain' });
    assert.equal(text.status, 415);
    await text.arrayBuffer();
    const broken = await post('{"jsonrpc": "2.0", "id": 1, "method": ');
    assert.equal(broken.status, 400);
    const parse = await error(broken);
    assert.equal(parse.code, -32700);
    assert.equal(parse.id, null);
    for (const body of ['42', '{"jsonrpc":"1.0","id":1,"method":"ping"}', '{"jsonrpc":"2.0","id":1}', '[{"jsonrpc":"2.0","method":7}]']) {
      const res = await post(body);
      assert.equal(res.status, 400, body);
      assert.equal((await error(res)).code, -32700, body);
    }
    const tooMany = await post(Array.from({ length: 101 }, (_, i) => ({ jsonrpc: '2.0', method: 'notifications/x', params: { i } })));
    assert.equal(tooMany.status, 400);
    assert.equal((await error(tooMany)).code, -32600);
    const put = await fetch(url, { method: 'PUT', headers: BASE, body: '{}' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, POST, DELETE');
    await put.arrayBuffer();
    const elsewhere = await fetch(url.replace('/mcp', '/other'), { method: 'POST', headers: BASE, body: JSON.stringify(INIT) });
    assert.equal(elsewhere.status, 404);
    await elsewhere.arrayBuffer();
    assert.equal(listener.transportCount, listener.sessionCount, 'no refused request left a transport behind');
  });

  test('a wrong token is refused 401 with the bearer challenge', async () => {
    const res = await post(INIT, { authorization: 'Bearer wrong' });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_token');
  });
});
